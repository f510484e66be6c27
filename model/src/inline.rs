//! Views whose JSON carries another type's fields inline, read in one
//! pass. `#[serde(flatten)]` writes them well, but to read it first
//! buffers every field of the outer object in serde's `Content` and then
//! reads the inner type from the buffer: in the browser that machinery
//! (every kind of JS value, numbers as floats) cost 4 kB of the download
//! per view. Such a view's `Deserialize` walks the object once instead
//! ([`walk`]), reading each key into its place, the inner type's too.

use std::borrow::Cow;

use serde::de::{Error, IgnoredAny, MapAccess};

/// Walks an object: `read` takes the keys it knows (returning `false` for
/// the others, which are skipped, as serde skips unknown fields).
pub fn walk<'de, A: MapAccess<'de>>(mut map: A, mut read: impl FnMut(&str, &mut A) -> Result<bool, A::Error>) -> Result<(), A::Error> {
    while let Some(key) = map.next_key::<Cow<'de, str>>()? {
        if !read(&key, &mut map)? {
            map.next_value::<IgnoredAny>()?;
        }
    }
    Ok(())
}

/// A field the object must have.
pub fn required<T, E: Error>(value: Option<T>, field: &'static str) -> Result<T, E> {
    value.ok_or_else(|| E::missing_field(field))
}

/// `Deserialize` for a view read with [`walk`]: `$read` is a
/// `fn<'de, A: MapAccess<'de>>(A) -> Result<$view, A::Error>`.
macro_rules! deserialize_with {
    ($view:ty, $expecting:literal, $read:path) => {
        impl<'de> serde::Deserialize<'de> for $view {
            fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                struct Visitor;
                impl<'de> serde::de::Visitor<'de> for Visitor {
                    type Value = $view;

                    fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                        f.write_str($expecting)
                    }

                    fn visit_map<A: serde::de::MapAccess<'de>>(self, map: A) -> Result<$view, A::Error> {
                        $read(map)
                    }
                }
                deserializer.deserialize_map(Visitor)
            }
        }
    };
}
pub(crate) use deserialize_with;
