//! The addon's allocator: mimalloc for its own allocations (the host's are
//! untouched). Every step event is built and copied on the runtime's threads
//! and often freed on another; under glibc's malloc that churn took about a
//! third of the bridge's CPU (BENCHMARKS.md, "Bridge capacity").
//!
//! mimalloc's default returns freed pages to the OS 10 ms after they empty:
//! at a steady stream of events that means madvise, then fresh page faults
//! (the kernel zeroing each page again) for memory in use a moment later,
//! about three faults per event. Waiting a second keeps that memory while
//! events flow and still hands it back once they stop ("Returning freed
//! memory a second later" in BENCHMARKS.md). `MIMALLOC_PURGE_DELAY`, when set, wins.

use std::ffi::{c_int, c_long};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// `mi_option_purge_delay` in mimalloc v2's `mi_option_e` (milliseconds);
/// the position in `include/mimalloc.h` of the libmimalloc-sys in Cargo.lock.
const MI_OPTION_PURGE_DELAY: c_int = 15;
const PURGE_DELAY_MS: c_long = 1000;

extern "C" {
    fn mi_option_set(option: c_int, value: c_long);
}

/// Runs when the addon is loaded, before any worker starts.
#[napi_derive::module_init]
fn tune_allocator() {
    if std::env::var_os("MIMALLOC_PURGE_DELAY").is_none() {
        // SAFETY: sets a plain integer option; mimalloc reads it on each purge decision.
        unsafe { mi_option_set(MI_OPTION_PURGE_DELAY, PURGE_DELAY_MS) };
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    extern "C" {
        fn mi_option_get(option: c_int) -> c_long;
    }

    fn purge_delay_ms() -> c_long {
        // SAFETY: reads an integer option.
        unsafe { mi_option_get(MI_OPTION_PURGE_DELAY) }
    }

    #[test]
    fn freed_memory_is_kept_for_a_second_unless_the_environment_says_otherwise() {
        match std::env::var("MIMALLOC_PURGE_DELAY") {
            Ok(given) => assert_eq!(purge_delay_ms().to_string(), given.trim()),
            Err(_) => assert_eq!(purge_delay_ms(), PURGE_DELAY_MS),
        }
    }
}
