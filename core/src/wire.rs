//! The snake_case wire vocabulary: one macro gives every enum its names,
//! parser, `Display` and serde, so YAML, JSON and snapshots agree by construction.

use std::fmt;

/// A word that is not part of an enum's wire vocabulary (kept so errors can list the choices).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("unknown {kind} `{word}`, expected one of: {expected}")]
pub struct UnknownWord {
    /// Which vocabulary was consulted, e.g. `session state`.
    pub kind: &'static str,
    /// The word that was given.
    pub word: String,
    /// The accepted words, comma separated.
    pub expected: String,
}

/// Joins wire names for error messages (`""` shows as `(empty)`).
pub(crate) fn expected_list(names: &[&str]) -> String {
    let shown: Vec<&str> = names
        .iter()
        .map(|n| if n.is_empty() { "\"\" (empty)" } else { n })
        .collect();
    shown.join(", ")
}

/// A wire enum's OpenAPI schema: a string that is one of its words.
#[cfg(feature = "openapi")]
pub fn word_schema(
    kind: &str,
    names: &[&str],
) -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
    utoipa::openapi::ObjectBuilder::new()
        .schema_type(utoipa::openapi::schema::Type::String)
        .description(Some(format!("A {kind}.")))
        .enum_values(Some(names.iter().copied()))
        .into()
}

/// Implemented by every wire enum so generic code (tables, fuzzers) can enumerate it.
pub trait WireEnum: Copy + Eq + Ord + fmt::Debug + 'static {
    /// Every variant, in declaration order.
    const ALL: &'static [Self];
    /// The wire name of this variant.
    fn as_str(self) -> &'static str;
}

/// Declares a wire enum: `Variant => "wire_name"` per line.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($kind:literal) {
            $( $(#[$vmeta:meta])* $variant:ident => $wire:literal ),+ $(,)?
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant ),+
        }

        impl $name {
            /// Every variant's wire name, in declaration order.
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The wire name.
            pub const fn as_str(self) -> &'static str {
                match self { $( Self::$variant => $wire ),+ }
            }
        }

        impl $crate::wire::WireEnum for $name {
            const ALL: &'static [Self] = &[$(Self::$variant),+];
            fn as_str(self) -> &'static str { $name::as_str(self) }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.pad(self.as_str())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = $crate::wire::UnknownWord;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                match s {
                    $( $wire => Ok(Self::$variant), )+
                    _ => Err($crate::wire::UnknownWord {
                        kind: $kind,
                        word: s.to_owned(),
                        expected: $crate::wire::expected_list(Self::NAMES),
                    }),
                }
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
                s.serialize_str(self.as_str())
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::PartialSchema for $name {
            fn schema() -> ::utoipa::openapi::RefOr<::utoipa::openapi::schema::Schema> {
                $crate::wire::word_schema($kind, Self::NAMES)
            }
        }

        #[cfg(feature = "openapi")]
        impl ::utoipa::ToSchema for $name {}

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
                struct V;
                impl ::serde::de::Visitor<'_> for V {
                    type Value = $name;
                    fn expecting(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                        write!(f, "a {} ({})", $kind, $crate::wire::expected_list($name::NAMES))
                    }
                    fn visit_str<E: ::serde::de::Error>(self, v: &str) -> Result<$name, E> {
                        v.parse().map_err(|e: $crate::wire::UnknownWord| E::custom(e))
                    }
                }
                d.deserialize_str(V)
            }
        }
    };
}
pub(crate) use wire_enum;
