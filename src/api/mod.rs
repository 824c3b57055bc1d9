//! The functions JS calls. Each one validates its input, runs under a panic
//! guard and answers with typed objects or a coded error.

mod args;
pub mod handle;

pub use args::arg;
pub mod cancellations;
pub mod events;
pub mod lifecycle;
