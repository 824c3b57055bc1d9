//! Conversions between tasker's Rust types and the typed objects JS sees.

pub mod event;
pub mod json;
pub mod result;

use chrono::NaiveDateTime;

/// tasker stores timestamps as UTC without a zone: give JS an ISO 8601 string it can parse.
pub(crate) fn iso(ts: &NaiveDateTime) -> String {
    ts.and_utc().to_rfc3339_opts(chrono::SecondsFormat::Micros, true)
}

#[cfg(test)]
mod tests {
    #[test]
    fn iso_is_utc_rfc3339() {
        let ts = chrono::NaiveDate::from_ymd_opt(2026, 1, 2)
            .unwrap()
            .and_hms_micro_opt(3, 4, 5, 6)
            .unwrap();
        assert_eq!(super::iso(&ts), "2026-01-02T03:04:05.000006Z");
    }
}
