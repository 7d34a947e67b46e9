//! Validated value types: once built, a value satisfies its rule, so code that holds one never
//! checks again. Each `parse` names the kind of value in its error; the field catalogue
//! relabels the error with the field's own name.

use std::fmt;

use unicode_normalization::UnicodeNormalization;

use crate::{DomainError, Rule};

/// Longest name part, in characters.
pub const MAX_NAME_CHARS: usize = 100;
/// Longest short text (nickname, municipality), in characters.
pub const MAX_SHORT_TEXT_CHARS: usize = 200;
/// Longest free text (notes, summaries), in characters: about ten pages.
pub const MAX_LONG_TEXT_CHARS: usize = 20_000;
/// Longest tag, in characters.
pub const MAX_TAG_CHARS: usize = 50;
/// Longest email address, in characters: RFC 5321's limit on a path, less its angle
/// brackets. RFC 5321 counts bytes, but the refusal tells a person "at most 254
/// characters", and a person counts characters.
const MAX_EMAIL_CHARS: usize = 254;

/// Trims, normalises to NFC and refuses control characters.
fn clean_line(kind: &str, text: &str, max_chars: usize) -> Result<String, DomainError> {
    let cleaned: String = text.trim().nfc().collect();
    if cleaned.is_empty() {
        return Err(DomainError::invalid(kind, Rule::Empty, "must not be empty"));
    }
    let chars = cleaned.chars().count();
    if chars > max_chars {
        return Err(DomainError::invalid(
            kind,
            Rule::TooLong { max: max_chars },
            format!("is {chars} characters long; at most {max_chars} are allowed"),
        ));
    }
    if cleaned.chars().any(char::is_control) {
        return Err(DomainError::invalid(
            kind,
            Rule::OneLine,
            "must be one line without control characters",
        ));
    }
    Ok(cleaned)
}

macro_rules! text_newtype {
    ($(#[$doc:meta])* $name:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub struct $name(String);

        impl $name {
            /// The validated text.
            pub fn as_str(&self) -> &str {
                &self.0
            }
        }

        impl fmt::Display for $name {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(&self.0)
            }
        }
    };
}

text_newtype!(
    /// A given or family name: one line, 1 to 100 characters, any script.
    PersonName
);
impl PersonName {
    /// Checks and normalises a name.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        clean_line("name", text, MAX_NAME_CHARS).map(Self)
    }
}

text_newtype!(
    /// A short one-line text such as a nickname or a municipality.
    ShortText
);
impl ShortText {
    /// Checks and normalises a short text.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        clean_line("text", text, MAX_SHORT_TEXT_CHARS).map(Self)
    }
}

text_newtype!(
    /// A free text of several lines (notes, contact summaries).
    LongText
);
impl LongText {
    /// Checks a free text: up to 20,000 characters; tabs and line breaks allowed, other
    /// control characters not.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        // Count without collecting first, so a 10 MB paste is refused cheaply.
        let chars = text.chars().take(MAX_LONG_TEXT_CHARS + 1).count();
        if chars > MAX_LONG_TEXT_CHARS {
            return Err(DomainError::invalid(
                "text",
                Rule::TooLong {
                    max: MAX_LONG_TEXT_CHARS,
                },
                format!("is longer than {MAX_LONG_TEXT_CHARS} characters"),
            ));
        }
        if text
            .chars()
            .any(|c| c.is_control() && c != '\n' && c != '\t' && c != '\r')
        {
            return Err(DomainError::invalid(
                "text",
                Rule::ControlCharacters,
                "must not contain control characters",
            ));
        }
        Ok(Self(text.nfc().collect::<String>().replace("\r\n", "\n")))
    }
}

text_newtype!(
    /// A free-form label on a client; one line, 1 to 50 characters.
    Tag
);
impl Tag {
    /// Checks and normalises a tag.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        clean_line("tag", text, MAX_TAG_CHARS).map(Self)
    }
}

text_newtype!(
    /// A phone number in E.164 form (`+358401234567`). Finnish national numbers
    /// (`040 123 4567`, `09 123 4567`) and the `00` international prefix are accepted
    /// and converted.
    PhoneNumber
);
impl PhoneNumber {
    /// Parses E.164 or Finnish national format; spaces, dashes, dots and parentheses are
    /// ignored.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let compact: String = text
            .trim()
            .chars()
            .filter(|c| !matches!(c, ' ' | '-' | '.' | '(' | ')' | '\u{a0}'))
            .collect();
        let (digits, finnish_national) = if let Some(rest) = compact.strip_prefix('+') {
            (rest, false)
        } else if let Some(rest) = compact.strip_prefix("00") {
            (rest, false)
        } else if let Some(rest) = compact.strip_prefix('0') {
            (rest, true)
        } else {
            return Err(DomainError::invalid(
                "phone",
                Rule::PhonePrefix,
                format!("`{text}` must start with + (E.164) or 0 (Finnish national number)"),
            ));
        };
        // Digits before length: `0abc` has a wrong character, not a wrong length.
        if !digits.chars().all(|c| c.is_ascii_digit()) {
            return Err(DomainError::invalid(
                "phone",
                Rule::PhoneDigits,
                format!("`{text}` may contain only digits after the prefix"),
            ));
        }
        let international = if finnish_national {
            // Finnish national numbers: 0 + area or operator code + subscriber number.
            if !(5..=11).contains(&digits.len()) {
                return Err(DomainError::invalid(
                    "phone",
                    Rule::PhoneLength,
                    format!("`{text}` is not a Finnish phone number (too short or too long)"),
                ));
            }
            format!("358{digits}")
        } else {
            digits.to_owned()
        };
        if !(7..=15).contains(&international.len()) || international.starts_with('0') {
            return Err(DomainError::invalid(
                "phone",
                Rule::PhoneInternational,
                format!(
                    "`{text}` is not a valid international number (7 to 15 digits, no leading 0 after +)"
                ),
            ));
        }
        Ok(Self(format!("+{international}")))
    }
}

text_newtype!(
    /// An email address: one `@`, a non-empty local part and a domain with a dot.
    /// The domain is lower-cased.
    Email
);
impl Email {
    /// Checks the shape of an address. Whether it exists is not knowable offline.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let text = text.trim();
        let refuse =
            |rule, why: &str| DomainError::invalid("email", rule, format!("`{text}` {why}"));
        if text.chars().count() > MAX_EMAIL_CHARS {
            return Err(refuse(
                Rule::TooLong {
                    max: MAX_EMAIL_CHARS,
                },
                &format!("is longer than {MAX_EMAIL_CHARS} characters"),
            ));
        }
        let (local, domain) = text
            .split_once('@')
            .ok_or_else(|| refuse(Rule::EmailNoAt, "has no @"))?;
        if local.is_empty() || local.chars().count() > 64 {
            return Err(refuse(
                Rule::EmailLocalPart,
                "needs 1 to 64 characters before the @",
            ));
        }
        if domain.contains('@') {
            return Err(refuse(Rule::EmailManyAt, "has more than one @"));
        }
        if text.chars().any(|c| c.is_whitespace() || c.is_control()) {
            return Err(refuse(Rule::EmailSpaces, "must not contain spaces"));
        }
        let labels: Vec<&str> = domain.split('.').collect();
        let valid_label = |l: &&str| {
            !l.is_empty()
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        };
        if labels.len() < 2 || !labels.iter().all(valid_label) {
            return Err(refuse(
                Rule::EmailDomain,
                "needs a domain such as example.fi after the @",
            ));
        }
        if labels.last().is_some_and(|tld| tld.chars().count() < 2) {
            return Err(refuse(
                Rule::EmailDomain,
                "has a top-level domain shorter than two letters",
            ));
        }
        Ok(Self(format!("{local}@{}", domain.to_lowercase())))
    }
}

text_newtype!(
    /// An ISO 639 language code: a two-letter ISO 639-1 code (`fi`, `ar`, `so`) or, for
    /// languages without one, a three-letter ISO 639-3 code (`prs` Dari, `ckb` Sorani).
    /// Three-letter codes of languages that have a two-letter code are stored as the
    /// two-letter code, so each language has one spelling.
    LanguageCode
);
impl LanguageCode {
    /// Parses and canonicalises a language code.
    pub fn parse(text: &str) -> Result<Self, DomainError> {
        let code = text.trim().to_ascii_lowercase();
        let language = match code.len() {
            2 => isolang::Language::from_639_1(&code),
            3 => isolang::Language::from_639_3(&code),
            _ => None,
        }
        .ok_or_else(|| {
            DomainError::invalid(
                "language",
                Rule::Language,
                format!("`{text}` is not an ISO 639 language code (such as fi, sv, ar, so, prs)"),
            )
        })?;
        let canonical = language.to_639_1().unwrap_or_else(|| language.to_639_3());
        Ok(Self(canonical.to_owned()))
    }

    /// The language's English name, for logs and the CLI; the UI has its own translations.
    pub fn english_name(&self) -> &'static str {
        let language = match self.0.len() {
            2 => isolang::Language::from_639_1(&self.0),
            _ => isolang::Language::from_639_3(&self.0),
        };
        language.map_or("unknown", |l| l.to_name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_trimmed_normalised_and_bounded() {
        assert_eq!(PersonName::parse("  Amina ").unwrap().as_str(), "Amina");
        // A decomposed ä becomes the composed one, so search and equality agree.
        assert_eq!(
            PersonName::parse("Ha\u{0308}kkinen").unwrap().as_str(),
            "Häkkinen"
        );
        assert_eq!(PersonName::parse("Мария").unwrap().as_str(), "Мария");
        assert_eq!(PersonName::parse("فاطمة").unwrap().as_str(), "فاطمة");
        assert!(PersonName::parse("   ").is_err());
        assert!(PersonName::parse("a\nb").is_err());
        assert!(PersonName::parse(&"x".repeat(101)).is_err());
        assert!(PersonName::parse(&"x".repeat(100)).is_ok());
    }

    #[test]
    fn finnish_national_phone_numbers_become_e164() {
        assert_eq!(
            PhoneNumber::parse("040 123 4567").unwrap().as_str(),
            "+358401234567"
        );
        assert_eq!(
            PhoneNumber::parse("(09) 123-4567").unwrap().as_str(),
            "+35891234567"
        );
        assert_eq!(
            PhoneNumber::parse("+358 40 123 4567").unwrap().as_str(),
            "+358401234567"
        );
        assert_eq!(
            PhoneNumber::parse("00252 61 234 5678").unwrap().as_str(),
            "+252612345678"
        );
    }

    #[test]
    fn malformed_phone_numbers_are_refused() {
        for bad in [
            "",
            "12345",
            "+0123456789",
            "+12ab5678",
            "0123",
            "+1234567890123456",
        ] {
            let err = PhoneNumber::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("phone:"), "{bad}: {err}");
        }
    }

    #[test]
    fn email_addresses_need_a_local_part_and_a_dotted_domain() {
        assert_eq!(
            Email::parse(" amina@Example.FI ").unwrap().as_str(),
            "amina@example.fi"
        );
        for bad in [
            "x@",
            "@example.fi",
            "x@example",
            "a b@example.fi",
            "x@@example.fi",
            "x@example.f",
            "x@-a.fi",
            "plain",
        ] {
            assert!(Email::parse(bad).is_err(), "{bad} should be refused");
        }
    }

    #[test]
    fn an_emails_local_part_is_limited_to_64_characters_not_bytes() {
        // Cyrillic letters are two bytes each: 40 of them are 80 bytes.
        let address = |chars: usize| format!("{}@example.fi", "д".repeat(chars));
        assert_eq!(Email::parse(&address(40)).unwrap().as_str(), address(40));
        assert_eq!(Email::parse(&address(64)).unwrap().as_str(), address(64));
        let err = Email::parse(&address(65)).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::EmailLocalPart), "{err}");
    }

    #[test]
    fn an_email_address_is_limited_to_254_characters_not_bytes() {
        // ä is two bytes in UTF-8: these addresses are far longer than 254 bytes.
        let address = |chars: usize| format!("amina@{}.fi", "ä".repeat(chars - "amina@.fi".len()));
        for chars in [200, 254] {
            let text = address(chars);
            assert!(
                text.len() > 254,
                "{chars} characters are {} bytes",
                text.len()
            );
            assert_eq!(Email::parse(&text).unwrap().as_str(), text);
        }
        let err = Email::parse(&address(255)).unwrap_err();
        assert_eq!(err.rule(), Some(Rule::TooLong { max: 254 }), "{err}");
        assert!(
            err.to_string().ends_with("is longer than 254 characters"),
            "{err}"
        );
    }

    #[test]
    fn language_codes_are_iso_639_and_canonical() {
        assert_eq!(LanguageCode::parse("FI").unwrap().as_str(), "fi");
        assert_eq!(LanguageCode::parse("fin").unwrap().as_str(), "fi");
        assert_eq!(LanguageCode::parse("prs").unwrap().as_str(), "prs");
        assert_eq!(LanguageCode::parse("ckb").unwrap().as_str(), "ckb");
        assert_eq!(LanguageCode::parse("so").unwrap().english_name(), "Somali");
        for bad in ["xx", "english", "", "q"] {
            let err = LanguageCode::parse(bad).unwrap_err().to_string();
            assert!(err.starts_with("language:"), "{err}");
        }
    }

    #[test]
    fn long_texts_keep_lines_but_refuse_ten_megabytes() {
        assert_eq!(LongText::parse("a\r\nb").unwrap().as_str(), "a\nb");
        let huge = "x".repeat(10 * 1024 * 1024);
        let err = LongText::parse(&huge).unwrap_err().to_string();
        assert!(err.contains("longer than 20000"), "{err}");
        assert!(LongText::parse("bell\u{7}").is_err());
    }
}
