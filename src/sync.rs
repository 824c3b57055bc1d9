//! Small synchronisation helpers every module may use (nothing here depends
//! on the rest of the addon).

use std::sync::{Mutex, MutexGuard};

/// Locks `m`, recovering from a panic in another holder (the data stays usable).
pub fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
}
