//! Finding clients registered twice: two coaches often register the same person offline,
//! spelling the name differently or in another script. This crate decides which pairs of a
//! team's clients a team lead should look at, and why. It is pure (no I/O, no clock), so the
//! server runs it over the team's clients and its precision and recall are measured on a
//! fixture (`tests/fixtures/duplicates.json`, docs/duplicates.md).
//!
//! - [`normalise`]: from a written name to comparable keys (Unicode NFKD, diacritics, case,
//!   punctuation; Cyrillic and Arabic script transliterated; the usual variant spellings
//!   folded together).
//! - [`candidates`]: the candidate rule (same phone, or same birth year with matching names)
//!   and the score.

pub mod candidates;
pub mod normalise;

pub use candidates::{Candidate, ClientKey, MatchReason, find_candidates, name_score, names_match};
pub use normalise::{PartKey, normalise_name};
