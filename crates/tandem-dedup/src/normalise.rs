//! From a written name to keys that compare equal across spellings and scripts.
//!
//! [`normalise_name`] gives the readable normal form: lower case, Cyrillic (Russian and
//! Ukrainian) and Arabic (with the Persian letters) transliterated into Latin, diacritics
//! removed after Unicode NFKD, punctuation and hyphens turned into spaces. [`PartKey`] then
//! folds the spellings that transliteration systems and habits produce for one name into one
//! key: `Мухаммад`, `Muhammad`, `Mohammed` and `Mohamed` all become `muhamad`; `Ольга`,
//! `Olga` and `Olha` become `ulha`; `Юрий`, `Yuri`, `Yuriy` and `Iurii` become `iuri`.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Lower-cases, transliterates Cyrillic and Arabic letters into Latin, removes diacritics
/// and turns everything that is not a letter or a digit into single spaces.
pub fn normalise_name(text: &str) -> String {
    normalise_with_script(text).0
}

/// [`normalise_name`], and whether Arabic letters were transliterated (Arabic script leaves
/// short vowels unwritten, so such a name is compared by its consonants).
fn normalise_with_script(text: &str) -> (String, bool) {
    let mut latin = String::with_capacity(text.len());
    let mut unvocalised = false;
    let mut at_word_start = true;
    for ch in text.nfc().flat_map(char::to_lowercase) {
        if let Some(letters) = cyrillic(ch) {
            latin.push_str(letters);
        } else if let Some(letters) = arabic(ch, at_word_start) {
            latin.push_str(letters);
            unvocalised = true;
        } else {
            latin.push(ch);
        }
        at_word_start = !ch.is_alphanumeric() && !is_arabic_mark(ch);
    }
    let mut folded = String::with_capacity(latin.len());
    for ch in latin.nfkd().filter(|c| !is_combining_mark(*c)) {
        match ch {
            'ø' => folded.push('o'),
            'æ' => folded.push_str("ae"),
            'œ' => folded.push_str("oe"),
            'ß' => folded.push_str("ss"),
            'ł' => folded.push('l'),
            'đ' | 'ð' => folded.push('d'),
            'þ' => folded.push_str("th"),
            'ı' => folded.push('i'),
            'ħ' => folded.push('h'),
            c if c.is_alphanumeric() => folded.push(c),
            // Apostrophes inside a name (O'Brien, the Ukrainian apostrophe, the ʿayn of a
            // transliteration) join, everything else separates.
            '\'' | '’' | 'ʼ' | 'ʻ' | 'ʿ' | 'ʾ' | '`' => {}
            _ => folded.push(' '),
        }
    }
    let words: Vec<&str> = folded.split_whitespace().collect();
    (words.join(" "), unvocalised)
}

/// Russian and Ukrainian letters, lower case, in the usual passport-style transliteration.
/// Variants between systems (`g`/`h`, `y`/`i`, `kh`/`h`) are folded later by [`PartKey`].
fn cyrillic(ch: char) -> Option<&'static str> {
    Some(match ch {
        'а' => "a",
        'б' => "b",
        'в' => "v",
        'г' => "g",
        'ґ' => "g",
        'д' => "d",
        'е' => "e",
        'ё' => "e",
        'є' => "ye",
        'ж' => "zh",
        'з' => "z",
        'и' => "i",
        'і' => "i",
        'ї' => "yi",
        'й' => "y",
        'к' => "k",
        'л' => "l",
        'м' => "m",
        'н' => "n",
        'о' => "o",
        'п' => "p",
        'р' => "r",
        'с' => "s",
        'т' => "t",
        'у' => "u",
        'ф' => "f",
        'х' => "kh",
        'ц' => "ts",
        'ч' => "ch",
        'ш' => "sh",
        'щ' => "shch",
        'ъ' | 'ь' => "",
        'ы' => "y",
        'э' => "e",
        'ю' => "yu",
        'я' => "ya",
        _ => return None,
    })
}

/// Arabic letters (and the Persian ones) in a simple transliteration: long vowels as
/// vowels, short vowels unwritten like in the script itself, `ʿayn` and `hamza` as a vowel
/// at the start of a word and nothing inside it.
fn arabic(ch: char, at_word_start: bool) -> Option<&'static str> {
    Some(match ch {
        'ا' | 'أ' | 'إ' | 'آ' | 'ٱ' | 'ى' | 'ة' => "a",
        'ع' | 'ء' if at_word_start => "a",
        'ع' | 'ء' | 'ـ' => "",
        'ؤ' | 'ئ' => "",
        'ب' => "b",
        'پ' => "p",
        'ت' => "t",
        'ث' => "th",
        'ج' => "j",
        'چ' => "ch",
        'ح' => "h",
        'خ' => "kh",
        'د' => "d",
        'ذ' => "dh",
        'ر' => "r",
        'ز' => "z",
        'ژ' => "zh",
        'س' => "s",
        'ش' => "sh",
        'ص' => "s",
        'ض' => "d",
        'ط' => "t",
        'ظ' => "z",
        'غ' => "gh",
        'ف' => "f",
        'ق' => "q",
        'ك' | 'ک' => "k",
        'گ' => "g",
        'ل' => "l",
        'م' => "m",
        'ن' => "n",
        'ه' | 'ھ' => "h",
        'و' if at_word_start => "w",
        'و' => "u",
        'ي' | 'ی' if at_word_start => "y",
        'ي' | 'ی' => "i",
        _ => return None,
    })
}

/// Arabic vowel signs and other marks inside a word.
fn is_arabic_mark(ch: char) -> bool {
    matches!(ch, '\u{064B}'..='\u{065F}' | '\u{0670}' | 'ـ')
}

/// One part of a name (the given names, or the family name), ready to compare.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartKey {
    /// The normal form, for showing and scoring.
    normalised: String,
    /// The folded spelling: variants of one name share it.
    key: String,
    /// [`Self::key`] without vowels.
    skeleton: String,
    /// Written in Arabic script, where short vowels are not written: compared by
    /// [`Self::skeleton`].
    unvocalised: bool,
}

/// Spellings that transliteration systems write differently for one sound, longest first;
/// upper-case letters are placeholders so that a later rule does not rewrite them.
const DIGRAPHS: &[(&str, &str)] = &[
    ("shch", "S"),
    ("tsch", "C"),
    ("sch", "S"),
    ("tch", "C"),
    ("sh", "S"),
    ("ch", "C"),
    ("zh", "Z"),
    ("kh", "h"),
    ("gh", "g"),
    ("ph", "f"),
    ("th", "t"),
    ("dh", "d"),
    ("ts", "T"),
    ("tz", "T"),
    ("ou", "u"),
    ("oo", "u"),
    ("ee", "i"),
];

impl PartKey {
    /// The key of one name part; `None` when nothing comparable is left (only punctuation).
    pub fn new(text: &str) -> Option<Self> {
        let (normalised, unvocalised) = normalise_with_script(text);
        if normalised.is_empty() {
            return None;
        }
        let key = fold_spelling(&normalised.replace(' ', ""));
        // A final `h` is dropped from the skeleton too: Arabic writes the `h` of `Abdullah`
        // but not the one of `Fatimah`.
        let mut skeleton = collapse_repeats(key.chars().filter(|c| !is_vowel(*c)));
        if skeleton.len() > 1 && skeleton.ends_with('h') {
            skeleton.pop();
        }
        Some(Self {
            normalised,
            key,
            skeleton,
            unvocalised,
        })
    }

    /// The normal form ([`normalise_name`]).
    pub fn normalised(&self) -> &str {
        &self.normalised
    }

    /// The folded spelling that variants share.
    pub fn key(&self) -> &str {
        &self.key
    }

    /// Whether two parts name the same name: the same folded spelling, or (written in Latin)
    /// one vowel apart.
    /// A part written in Arabic script has no short vowels, so its consonants must agree.
    pub fn matches(&self, other: &Self) -> bool {
        if self.unvocalised || other.unvocalised {
            let long_enough = self.skeleton.chars().count() >= 2;
            return if long_enough {
                self.skeleton == other.skeleton
            } else {
                self.key == other.key
            };
        }
        self.key == other.key || self.one_vowel_apart(other)
    }

    /// The same consonants, one vowel inserted, deleted or changed, both at least five
    /// letters and the same last letter (`Sergei`/`Serhii`, `Aleksandr`/`Oleksandr`; not
    /// `Sofia`/`Sonja`, not `Karim`/`Karima`).
    fn one_vowel_apart(&self, other: &Self) -> bool {
        let (a, b) = (&self.key, &other.key);
        self.skeleton == other.skeleton
            && a.chars().count().min(b.chars().count()) >= 5
            && a.chars().last() == b.chars().last()
            && strsim::levenshtein(a, b) == 1
    }
}

fn is_vowel(ch: char) -> bool {
    matches!(ch, 'a' | 'i' | 'u')
}

/// Folds the variants of transliteration into one spelling: digraphs to one letter,
/// `c`/`q` to `k`, `w` to `v`, `x` to `ks`, `y` and `j` to `i`, `g` to `h` (Ukrainian writes
/// `h` where Russian writes `g`), vowels into three classes (`a e`, `i y`, `o u`), doubled
/// letters once, and a final `h` after a vowel dropped (`Aminah`, `Sarah`).
fn fold_spelling(word: &str) -> String {
    let mut text = word.to_owned();
    for (from, to) in DIGRAPHS {
        text = text.replace(from, to);
    }
    let mapped = text.chars().flat_map(|ch| {
        let folded: &[char] = match ch {
            'c' | 'q' | 'k' => &['k'],
            'w' | 'v' => &['v'],
            'x' => &['k', 's'],
            'y' | 'j' | 'i' => &['i'],
            'g' | 'h' => &['h'],
            'e' | 'a' => &['a'],
            'o' | 'u' => &['u'],
            'S' => &['s', 'h'],
            'C' => &['c', 'h'],
            'Z' => &['z', 'h'],
            'T' => &['t', 's'],
            _ => return vec![ch],
        };
        folded.to_vec()
    });
    let mut key = collapse_repeats(mapped);
    if key.len() > 2 && key.ends_with('h') && key[..key.len() - 1].ends_with(is_vowel) {
        key.pop();
    }
    key
}

fn collapse_repeats(chars: impl Iterator<Item = char>) -> String {
    let mut out = String::new();
    for ch in chars {
        if !out.ends_with(ch) {
            out.push(ch);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key(text: &str) -> String {
        PartKey::new(text).expect("a name").key().to_owned()
    }

    fn same(a: &str, b: &str) -> bool {
        PartKey::new(a).unwrap().matches(&PartKey::new(b).unwrap())
    }

    #[test]
    fn normal_form_folds_case_diacritics_and_punctuation() {
        assert_eq!(
            normalise_name("  Häkkinen-Øster, Anna "),
            "hakkinen oster anna"
        );
        assert_eq!(normalise_name("José  María"), "jose maria");
        assert_eq!(normalise_name("O'Brien"), "obrien");
        assert_eq!(normalise_name("Nguyễn Thị"), "nguyen thi");
        assert_eq!(normalise_name("ＡＢＣ"), "abc");
    }

    #[test]
    fn cyrillic_is_transliterated_russian_and_ukrainian() {
        assert_eq!(normalise_name("Юрий"), "yuriy");
        assert_eq!(normalise_name("Ольга Щербакова"), "olga shcherbakova");
        assert_eq!(normalise_name("Олександр Їжак"), "oleksandr yizhak");
        assert_eq!(normalise_name("Соф'я"), "sofya");
    }

    #[test]
    fn arabic_is_transliterated_without_short_vowels() {
        assert_eq!(normalise_name("محمد"), "mhmd");
        assert_eq!(normalise_name("عمر"), "amr");
        assert_eq!(normalise_name("فاطمة"), "fatma");
        assert_eq!(normalise_name("مُحَمَّد"), "mhmd");
        assert_eq!(normalise_name("عبد الله"), "abd allh");
    }

    #[test]
    fn variant_spellings_share_one_key() {
        for group in [
            &["Мухаммад", "Muhammad", "Mohammed", "Mohamed", "Muhammed"][..],
            &["Ольга", "Olga", "Olha"],
            &["Юрий", "Yuri", "Yuriy", "Iurii", "Jurij"],
            &["Igor", "Ihor", "Игорь"],
            &["Dmitriy", "Dmitry", "Dmitrii", "Дмитрий"],
            &["Khalid", "Halid"],
            &["Youssef", "Yussef"],
            &["Abdul-Rahman", "Abdul Rahman", "Abdulrahman"],
            &["Aminah", "Amina"],
            &["Kareem", "Karim"],
        ] {
            let first = key(group[0]);
            for name in group {
                assert_eq!(key(name), first, "{name} vs {}", group[0]);
            }
        }
    }

    #[test]
    fn arabic_script_matches_latin_by_consonants() {
        assert!(same("محمد", "Muhammad"));
        assert!(same("محمد", "Mohamed"));
        assert!(same("أحمد", "Ahmed"));
        assert!(same("فاطمة", "Fatima"));
        assert!(same("عمر", "Omar"));
        assert!(same("عبد الله", "Abdullah"));
        assert!(same("فاطمة", "Fatimah"));
        assert!(same("علي", "Ali"));
        assert!(!same("علي", "Alia"));
        assert!(!same("محمد", "Ahmed"));
    }

    #[test]
    fn one_slip_matches_longer_names_but_not_feminine_forms() {
        assert!(same("Sergei", "Serhii"));
        assert!(same("Aleksandr", "Oleksandr"));
        assert!(same("Alexander", "Aleksandr"));
        assert!(same("Youssef", "Yusuf"));
        assert!(!same("Ali", "Alia"));
        assert!(!same("Karim", "Karima"));
        assert!(!same("Aleksandr", "Aleksandra"));
        assert!(!same("Amir", "Amin"));
        assert!(!same("Hassan", "Hussein"));
        assert!(!same("Sofia", "Sonja"));
    }

    #[test]
    fn a_name_of_punctuation_only_has_no_key() {
        assert_eq!(PartKey::new(" - , "), None);
    }
}
