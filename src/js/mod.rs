//! Building blocks of the JS boundary that every export uses: arguments
//! converted with coded errors (args.rs), whole numbers read without
//! napi's silent wrapping (whole.rs), and handle objects whose methods
//! and getters are closures over Rust state (handle.rs). Below every module
//! that exports something, so none of them reaches up into `api`.

pub mod args;
pub mod handle;
pub mod whole;

pub use args::arg;
pub use whole::Whole;
