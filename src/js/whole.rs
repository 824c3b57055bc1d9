//! Counts, sizes and durations read from JS. A JS number is a double, and
//! napi's own `u32` conversion wraps -1 to 4294967295, cuts 2.5 to 2 and
//! reads NaN as 0 without a word; `Whole` refuses each of them, naming the
//! value, so the caller's range check never sees a number the user did not
//! write.

use napi::bindgen_prelude::*;

/// A whole number from 0 to 2^32 - 1, read from a JS number (typed `number`
/// in index.d.ts through each field's `ts_type`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Whole(pub u32);

impl Whole {
    pub fn get(self) -> u32 {
        self.0
    }
}

/// `value` as a `Whole`, or why it is not one.
pub fn whole(value: f64) -> std::result::Result<Whole, String> {
    if value.fract() == 0.0 && (0.0..=u32::MAX as f64).contains(&value) {
        Ok(Whole(value as u32))
    } else {
        Err(format!("{} is not a whole number from 0 to {}", as_js(value), u32::MAX))
    }
}

/// How JS writes `value` (Rust writes infinity as `inf`).
fn as_js(value: f64) -> String {
    match value {
        f64::INFINITY => "Infinity".into(),
        f64::NEG_INFINITY => "-Infinity".into(),
        _ => value.to_string(),
    }
}

impl TypeName for Whole {
    fn type_name() -> &'static str {
        "number"
    }

    fn value_type() -> ValueType {
        ValueType::Number
    }
}

impl ValidateNapiValue for Whole {}

impl ToNapiValue for Whole {
    unsafe fn to_napi_value(env: sys::napi_env, value: Self) -> Result<sys::napi_value> {
        u32::to_napi_value(env, value.0)
    }
}

impl FromNapiValue for Whole {
    unsafe fn from_napi_value(env: sys::napi_env, value: sys::napi_value) -> Result<Self> {
        let mut kind = sys::ValueType::napi_undefined;
        sys::napi_typeof(env, value, &mut kind);
        if kind != sys::ValueType::napi_number {
            let given = ValueType::from(kind);
            return Err(Error::new(Status::InvalidArg, format!("expected a whole number, got {}", format!("{given:?}").to_lowercase())));
        }
        whole(f64::from_napi_value(env, value)?).map_err(|reason| Error::new(Status::InvalidArg, reason))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn whole_numbers_in_range_pass_as_they_are() {
        assert_eq!(whole(0.0), Ok(Whole(0)));
        assert_eq!(whole(10.0), Ok(Whole(10)));
        assert_eq!(whole(u32::MAX as f64), Ok(Whole(u32::MAX)));
    }

    #[test]
    fn negatives_fractions_and_non_numbers_are_refused_by_value() {
        for (value, shown) in [(-1.0, "-1"), (2.5, "2.5"), (f64::NAN, "NaN"), (f64::INFINITY, "Infinity"), (4294967296.0, "4294967296")] {
            let err = whole(value).unwrap_err();
            assert!(err.starts_with(&format!("{shown} is not a whole number")), "{err}");
        }
    }
}
