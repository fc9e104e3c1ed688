//! Lenient decoding of the shapes WeCom sends for "nothing" and of ids sent as numbers: the
//! one home of the rules that every list, nested object and string field of the wire types
//! follows (integers are in [`crate::wecom::num`]), and of the path that a decoding error names.
//!
//! The rules, from the reference, the SDKs' fixtures and what real servers were seen sending
//! (see `docs/wire.md`): a list may be absent or `null` (empty); a nested object may be absent,
//! `null`, `{}` or `[]` (its default); a string may be absent or `null` (empty) or an integer
//! (its decimal text, exactly as sent). Anything else is an error, and the error of a response
//! names the field path (`info.comments[2].comment_time: …`).

use std::fmt;
use std::marker::PhantomData;

use serde::de::{
    self, DeserializeOwned, IgnoredAny, IntoDeserializer, MapAccess, SeqAccess, Visitor,
};
use serde::{Deserialize, Deserializer};

/// A list that may be absent or `null`: empty. Its items decode as `T` does.
pub(super) fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    Ok(Option::<Vec<T>>::deserialize(d)?.unwrap_or_default())
}

/// A nested object that may be absent, `null`, `{}` or `[]` (PHP's empty array): its default.
pub(super) fn object<'de, D, T>(d: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de> + Default,
{
    Ok(object_or_empty(d)?.unwrap_or_default())
}

/// A nested object where `[]`, `{}` or `null` may stand for "none": `None` for `[]` and `null`.
/// Decoded straight from the input (no intermediate `Value` tree).
pub(super) fn object_or_empty<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: Deserialize<'de>,
{
    struct ObjectOrEmpty<T>(PhantomData<T>);

    impl<'de, T: Deserialize<'de>> Visitor<'de> for ObjectOrEmpty<T> {
        type Value = Option<T>;

        fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
            f.write_str("an object, an empty array or null")
        }
        fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
            Ok(None)
        }
        fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
            d.deserialize_any(self)
        }
        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            match seq.next_element::<IgnoredAny>()? {
                None => Ok(None),
                Some(_) => Err(de::Error::custom(
                    "expected an object, got a non-empty array",
                )),
            }
        }
        fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<Self::Value, A::Error> {
            T::deserialize(de::value::MapAccessDeserializer::new(map)).map(Some)
        }
    }

    d.deserialize_any(ObjectOrEmpty(PhantomData))
}

struct LenientString;

impl<'de> Visitor<'de> for LenientString {
    type Value = Option<String>;

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("a string (or an integer id)")
    }
    fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_string<E: de::Error>(self, v: String) -> Result<Self::Value, E> {
        Ok(Some(v))
    }
    // An id sent as a number: its decimal text, which for an integer is exactly what was sent.
    fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
        Ok(Some(v.to_string()))
    }
    fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
        Ok(None)
    }
    fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
        d.deserialize_any(LenientString)
    }
}

/// A string that may be absent or `null` (empty), or an integer (an id sent as a number: its
/// decimal text).
pub(super) fn string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(d.deserialize_any(LenientString)?.unwrap_or_default())
}

/// An optional string: `null` is `None`; an integer is its decimal text.
pub(super) fn opt_string<'de, D: Deserializer<'de>>(d: D) -> Result<Option<String>, D::Error> {
    d.deserialize_any(LenientString)
}

/// Any value as text: a string as it is, `null` as empty, anything else as its JSON text.
/// For fields that are only ever shown to a person (`errmsg`).
pub(super) fn any_text<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    Ok(match serde_json::Value::deserialize(d)? {
        serde_json::Value::String(s) => s,
        serde_json::Value::Null => String::new(),
        other => other.to_string(),
    })
}

/// An optional enumeration sent as a string: a value this crate does not know (or `null`) is
/// `None` rather than an error, so that one new spelling does not cost the rest of its object.
pub(super) fn opt_known<'de, D, T>(d: D) -> Result<Option<T>, D::Error>
where
    D: Deserializer<'de>,
    T: DeserializeOwned,
{
    let Some(text) = opt_string(d)? else {
        return Ok(None);
    };
    let text: de::value::StringDeserializer<de::value::Error> = text.into_deserializer();
    Ok(T::deserialize(text).ok())
}

/// A list of unsigned integers, each a number or a numeric string (department ids in
/// `user/list`); absent or `null` is empty. An item that is `null` or `""` is an error: a list
/// of ids with a hole is not an id list.
pub(super) fn u64_list<'de, D: Deserializer<'de>>(d: D) -> Result<Vec<u64>, D::Error> {
    struct Id(u64);
    impl<'de> Deserialize<'de> for Id {
        fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            match crate::wecom::num::opt_u64_lenient(d)? {
                Some(v) => Ok(Id(v)),
                None => Err(de::Error::custom("an empty id in a list of ids")),
            }
        }
    }
    Ok(list::<D, Id>(d)?.into_iter().map(|Id(v)| v).collect())
}

/// Decodes a whole response with `decode` (a type's derived decoding) and, when it fails, says
/// where: the error's message starts with the field path (`stat_list[0].report_list[3].user`).
/// Used by the types a caller decodes a body or a stored text into, never by the types nested
/// in them (their path is part of their parent's).
pub(super) fn with_path<'de, D, T, F>(d: D, decode: F) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    F: FnOnce(serde_path_to_error::Deserializer<'_, '_, D>) -> Result<T, D::Error>,
{
    match tracked(d, decode) {
        Ok(v) => Ok(v),
        // At the top there is no path to name: the error as it is (its category kept).
        Err((path, e)) if names_nothing(&path) => Err(e),
        Err((path, e)) => Err(at_path(None, &path, e)),
    }
}

/// [`with_path`], the path and the error apart.
pub(super) fn tracked<'de, D, T, F>(
    d: D,
    decode: F,
) -> Result<T, (serde_path_to_error::Path, D::Error)>
where
    D: Deserializer<'de>,
    F: FnOnce(serde_path_to_error::Deserializer<'_, '_, D>) -> Result<T, D::Error>,
{
    let mut track = serde_path_to_error::Track::new();
    let result = decode(serde_path_to_error::Deserializer::new(d, &mut track));
    result.map_err(|e| (track.path(), e))
}

/// Whether `path` names no field (the top, or a key that did not decode).
fn names_nothing(path: &serde_path_to_error::Path) -> bool {
    path.iter()
        .all(|s| matches!(s, serde_path_to_error::Segment::Unknown))
}

/// The error `e` at `path` (under the field `parent`, when the text decoded was a field's).
pub(super) fn at_path<E: de::Error>(
    parent: Option<&str>,
    path: &serde_path_to_error::Path,
    e: impl fmt::Display,
) -> E {
    let empty = names_nothing(path);
    match (parent, empty) {
        (None, true) => E::custom(e),
        (None, false) => E::custom(format_args!("{path}: {e}")),
        (Some(parent), true) => E::custom(format_args!("{parent}: {e}")),
        (Some(parent), false) => E::custom(format_args!("{parent}.{path}: {e}")),
    }
}
