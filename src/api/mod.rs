//! The functions JS calls. Each one validates its input, runs under a panic
//! guard and answers with typed objects or a coded error.

pub mod cancellations;
pub mod domain_events;
pub mod events;
pub mod lifecycle;
