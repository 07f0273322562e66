//! The performance harness of issue 9, as a library for its `consent-bench` binary: cold starts
//! on a stand-in Lambda Runtime API, peak memory, artifact sizes, gate throughput, handler
//! latency and AWS request counts. Run by `scripts/bench`; never part of `cargo test`.

pub mod aws;
pub mod coldstart;
pub mod events;
pub mod lambda;
pub mod latency;
pub mod probe;
pub mod report;
pub mod requests;
pub mod runtime_api;
pub mod size;
pub mod stats;
pub mod throughput;
