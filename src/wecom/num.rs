//! Lenient integer decoding: WeCom sends any integer either as a JSON number or as a numeric
//! string (`"s_timestamp": "1606365591"`), and u64 ids above 2^53 must never pass through f64.

use serde::de::{self, Deserializer, Visitor};
use std::fmt;

struct LenientU64;

impl<'de> Visitor<'de> for LenientU64 {
    type Value = Option<u64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an unsigned integer as a number or a numeric string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        u64::try_from(v).map(Some).map_err(|_| {
            E::custom(format!(
                "negative value {v} where an unsigned integer was expected"
            ))
        })
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        // Only whole numbers that f64 holds exactly; anything else is a real decoding error.
        if v.fract() == 0.0 && (0.0..=9_007_199_254_740_992.0).contains(&v) {
            Ok(Some(v as u64))
        } else {
            Err(E::custom(format!("{v} is not an exact unsigned integer")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<u64>()
            .map(Some)
            .map_err(|_| E::custom(format!("{v:?} is not an unsigned integer")))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientU64)
    }
}

struct LenientI64;

impl<'de> Visitor<'de> for LenientI64 {
    type Value = Option<i64>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an integer as a number or a numeric string")
    }
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        i64::try_from(v)
            .map(Some)
            .map_err(|_| E::custom(format!("{v} does not fit a signed 64-bit integer")))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    fn visit_f64<E: de::Error>(self, v: f64) -> Result<Self::Value, E> {
        if v.fract() == 0.0 && v.abs() <= 9_007_199_254_740_992.0 {
            Ok(Some(v as i64))
        } else {
            Err(E::custom(format!("{v} is not an exact integer")))
        }
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        let t = v.trim();
        if t.is_empty() {
            return Ok(None);
        }
        t.parse::<i64>()
            .map(Some)
            .map_err(|_| E::custom(format!("{v:?} is not an integer")))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientI64)
    }
}

/// `u64` from a number or a numeric string; absent, null or `""` is 0.
pub(crate) fn u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<u64, D::Error> {
    Ok(d.deserialize_any(LenientU64)?.unwrap_or(0))
}

/// `Option<u64>` from a number or a numeric string; null or `""` is `None`.
pub(crate) fn opt_u64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    d.deserialize_any(LenientU64)
}

/// `i64` from a number or a numeric string; absent, null or `""` is 0.
pub(crate) fn i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<i64, D::Error> {
    Ok(d.deserialize_any(LenientI64)?.unwrap_or(0))
}

/// `Option<i64>` from a number or a numeric string; null or `""` is `None`.
pub(crate) fn opt_i64_lenient<'de, D: Deserializer<'de>>(d: D) -> Result<Option<i64>, D::Error> {
    d.deserialize_any(LenientI64)
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde::Deserialize;

    #[derive(Deserialize)]
    struct T {
        #[serde(default, deserialize_with = "u64_lenient")]
        a: u64,
        #[serde(default, deserialize_with = "opt_i64_lenient")]
        b: Option<i64>,
    }

    #[test]
    fn numbers_and_strings_decode_alike() {
        let t: T =
            serde_json::from_str(r#"{"a": "18446744073709551615", "b": "1606365591"}"#).unwrap();
        assert_eq!(t.a, u64::MAX);
        assert_eq!(t.b, Some(1_606_365_591));
        let t: T = serde_json::from_str(r#"{"a": 18446744073709551615, "b": 1606365591}"#).unwrap();
        assert_eq!(t.a, u64::MAX);
        assert_eq!(t.b, Some(1_606_365_591));
        let t: T = serde_json::from_str(r#"{"b": ""}"#).unwrap();
        assert_eq!((t.a, t.b), (0, None));
    }

    #[test]
    fn garbage_is_an_error_not_a_zero() {
        assert!(serde_json::from_str::<T>(r#"{"a": "12x"}"#).is_err());
        assert!(serde_json::from_str::<T>(r#"{"a": -3}"#).is_err());
    }
}
