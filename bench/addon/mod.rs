//! Benchmark support, exported under the `bench` namespace (not part of the
//! stable API). It measures the bridge itself, without a database: a
//! `Harness` is a dispatch channel exactly like a worker's (the same
//! `FfiDispatchChannel`, counting forwarder, push delivery and completion
//! path) fed with synthetic hydrated steps, and the `bridge` functions cross
//! a realistic step event both as typed objects and as a JSON baseline;
//! `floor` measures a bare ThreadsafeFunction call, the limit of push delivery.

mod bridge;
mod floor;
mod harness;
mod synthetic;
