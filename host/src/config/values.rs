//! Serde forms of configuration values that are friendlier in a file or an
//! environment variable than their Rust types: durations as a number of
//! milliseconds or seconds, lists as TOML arrays or comma-separated text,
//! secrets that are read but never written back.

use std::time::Duration;

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::{Deserialize, Serializer};

/// A `Duration` as whole milliseconds (`deadline_ms = 200`).
pub mod millis {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    /// Writes the duration in milliseconds.
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    /// Reads milliseconds.
    ///
    /// # Errors
    /// When the value is not a non-negative integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

/// A `Duration` as whole seconds (`link_ttl_secs = 300`).
pub mod secs {
    use super::{Deserialize, Deserializer, Duration, Serializer};

    /// Writes the duration in seconds.
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(d.as_secs())
    }

    /// Reads seconds.
    ///
    /// # Errors
    /// When the value is not a non-negative integer.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_secs)
    }
}

/// A list given as a TOML array or as comma-separated text (the form an
/// environment variable takes); blank items are dropped.
///
/// # Errors
/// When an item does not parse.
pub fn list<'de, D, T>(d: D) -> Result<Vec<T>, D::Error>
where
    D: Deserializer<'de>,
    T: std::str::FromStr,
    T::Err: std::fmt::Display,
{
    struct ListVisitor<T>(std::marker::PhantomData<T>);

    impl<'de, T> Visitor<'de> for ListVisitor<T>
    where
        T: std::str::FromStr,
        T::Err: std::fmt::Display,
    {
        type Value = Vec<T>;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a list, or comma-separated text")
        }

        fn visit_str<E: de::Error>(self, text: &str) -> Result<Self::Value, E> {
            text.split(',')
                .map(str::trim)
                .filter(|item| !item.is_empty())
                .map(|item| item.parse().map_err(E::custom))
                .collect()
        }

        fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Self::Value, A::Error> {
            let mut out = Vec::new();
            while let Some(item) = seq.next_element::<String>()? {
                out.push(item.trim().parse().map_err(de::Error::custom)?);
            }
            Ok(out)
        }
    }

    d.deserialize_any(ListVisitor(std::marker::PhantomData))
}

/// Writes a list as an array of its items' text.
///
/// # Errors
/// Those of the serializer.
pub fn list_out<S: Serializer, T: std::fmt::Display>(items: &[T], s: S) -> Result<S::Ok, S::Error> {
    s.collect_seq(items.iter().map(ToString::to_string))
}

/// A boolean given as `true`/`false`, `1`/`0`, `yes`/`no` or `on`/`off`
/// (environment variables are often set to `1`).
///
/// # Errors
/// Any other value.
pub fn flag<'de, D: Deserializer<'de>>(d: D) -> Result<bool, D::Error> {
    struct FlagVisitor;

    impl Visitor<'_> for FlagVisitor {
        type Value = bool;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("true or false")
        }

        fn visit_bool<E: de::Error>(self, v: bool) -> Result<bool, E> {
            Ok(v)
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<bool, E> {
            match v {
                0 => Ok(false),
                1 => Ok(true),
                _ => Err(E::custom(format!("expected true or false, found {v}"))),
            }
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<bool, E> {
            self.visit_u64(u64::try_from(v).unwrap_or(u64::MAX))
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<bool, E> {
            match v.trim().to_ascii_lowercase().as_str() {
                "true" | "1" | "yes" | "on" => Ok(true),
                "false" | "0" | "no" | "off" | "" => Ok(false),
                other => Err(E::custom(format!(
                    "expected true or false, found {other:?}"
                ))),
            }
        }
    }

    d.deserialize_any(FlagVisitor)
}

/// Secrets: read from any scalar (an all-digit token arrives from an
/// environment variable as a number), written as `"(set)"` so that no
/// serialized form of the configuration ever holds one.
pub mod secret {
    use secrecy::SecretString;

    use super::{Deserializer, Serializer, Visitor, de};

    struct SecretVisitor;

    impl Visitor<'_> for SecretVisitor {
        type Value = SecretString;

        fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("a secret string")
        }

        fn visit_str<E: de::Error>(self, v: &str) -> Result<SecretString, E> {
            Ok(SecretString::from(v.to_owned()))
        }

        fn visit_u64<E: de::Error>(self, v: u64) -> Result<SecretString, E> {
            Ok(SecretString::from(v.to_string()))
        }

        fn visit_i64<E: de::Error>(self, v: i64) -> Result<SecretString, E> {
            Ok(SecretString::from(v.to_string()))
        }
    }

    /// Reads an optional secret.
    ///
    /// # Errors
    /// When the value is not a scalar.
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<SecretString>, D::Error> {
        struct OptionVisitor;

        impl<'de> Visitor<'de> for OptionVisitor {
            type Value = Option<SecretString>;

            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a secret string")
            }

            fn visit_none<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_unit<E: de::Error>(self) -> Result<Self::Value, E> {
                Ok(None)
            }

            fn visit_some<D: Deserializer<'de>>(self, d: D) -> Result<Self::Value, D::Error> {
                d.deserialize_any(SecretVisitor).map(Some)
            }

            fn visit_str<E: de::Error>(self, v: &str) -> Result<Self::Value, E> {
                SecretVisitor.visit_str(v).map(Some)
            }

            fn visit_u64<E: de::Error>(self, v: u64) -> Result<Self::Value, E> {
                SecretVisitor.visit_u64(v).map(Some)
            }

            fn visit_i64<E: de::Error>(self, v: i64) -> Result<Self::Value, E> {
                SecretVisitor.visit_i64(v).map(Some)
            }
        }

        d.deserialize_option(OptionVisitor)
    }

    /// Writes `"(set)"` or nothing.
    ///
    /// # Errors
    /// Those of the serializer.
    pub fn serialize<S: Serializer>(v: &Option<SecretString>, s: S) -> Result<S::Ok, S::Error> {
        match v {
            Some(_) => s.serialize_some("(set)"),
            None => s.serialize_none(),
        }
    }
}
