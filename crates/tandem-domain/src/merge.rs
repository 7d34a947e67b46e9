//! The merge rules of DESIGN.md, as pure functions shared by the laptop store and the server.
//!
//! The caller has already decided that two writes are concurrent (the incoming write's
//! `base_version` is older than the field's current version); these functions decide what
//! the field becomes. They never look at wall clocks, only at HLCs and values.

use std::collections::BTreeSet;

use crate::fields::{FieldSpec, FieldValue, Inner, MergePolicy, ValidationContext};
use crate::hlc::Hlc;

/// One side of a concurrent write: its value and clock.
#[derive(Debug, Clone, Copy)]
pub struct Write<'a> {
    /// The value written.
    pub value: &'a FieldValue,
    /// When (in HLC terms) and by which node it was written.
    pub hlc: &'a Hlc,
}

/// Which of two concurrent writes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Side {
    /// The value the field holds now.
    Current,
    /// The value arriving.
    Incoming,
}

/// What a field becomes after two concurrent writes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolution {
    /// Both sides wrote the same value: nothing to reconcile.
    Same,
    /// `lww`: the winner's value stands; the loser goes to the field history and an
    /// auto-resolved conflict is recorded.
    AutoResolved {
        /// The side whose value stands.
        winner: Side,
    },
    /// `set`, or `text` without overlapping edits: both sides' changes combined, a valid
    /// value of the field.
    Merged(FieldValue),
    /// `review`, `text` with overlapping edits, or a `set` or `text` whose combination would
    /// break the field's limits: the winner by HLC stands provisionally and an open conflict
    /// keeps both values for a team lead.
    NeedsReview {
        /// The side whose value stands until someone decides.
        provisional: Side,
    },
}

/// The side with the later HLC. HLCs include the node id, so two different writers never
/// tie; an exact tie can only be one write seen twice, and then either side is right.
pub fn later_side(current: &Hlc, incoming: &Hlc) -> Side {
    if incoming >= current {
        Side::Incoming
    } else {
        Side::Current
    }
}

/// Reconciles two concurrent writes to the field `spec` under its policy. `base` is the
/// value at the incoming write's `base_version` (the value both sides started from); `ctx`
/// is the day the combination is validated on.
pub fn resolve_concurrent(
    spec: &FieldSpec,
    base: &FieldValue,
    current: Write<'_>,
    incoming: Write<'_>,
    ctx: ValidationContext,
) -> Resolution {
    if current.value == incoming.value {
        return Resolution::Same;
    }
    let later = later_side(current.hlc, incoming.hlc);
    match spec.policy {
        MergePolicy::Lww => Resolution::AutoResolved { winner: later },
        MergePolicy::Review => Resolution::NeedsReview { provisional: later },
        MergePolicy::Set => {
            let empty = BTreeSet::new();
            let members = |v: &'_ FieldValue| v.as_set().cloned().unwrap_or_else(|| empty.clone());
            let merged = merge_set(
                &members(base),
                &members(current.value),
                &members(incoming.value),
            );
            combination(spec, FieldValue(Inner::Set(merged)), later, ctx)
        }
        MergePolicy::Text => {
            let text = |v: &'_ FieldValue| v.as_text().unwrap_or_default().to_owned();
            match merge_text(&text(base), &text(current.value), &text(incoming.value)) {
                TextMerge::Merged(merged) => {
                    combination(spec, FieldValue(Inner::Text(merged)), later, ctx)
                }
                TextMerge::Overlapping => Resolution::NeedsReview { provisional: later },
            }
        }
    }
}

/// The combination of two valid values, validated like any value of the field: two texts
/// within the length limit can merge into one over it, two sets into one with too many
/// members. Such a combination is not made (stored, it would be a value no read of the field
/// accepts); both values go to review instead, as overlapping edits do, with the later write
/// standing meanwhile.
fn combination(
    spec: &FieldSpec,
    combined: FieldValue,
    later: Side,
    ctx: ValidationContext,
) -> Resolution {
    match spec.parse_json(&combined.to_json(), ctx) {
        Ok(valid) => Resolution::Merged(valid),
        Err(_) => Resolution::NeedsReview { provisional: later },
    }
}

/// Three-way set merge: the base, plus what either side added, minus what either side
/// removed. Symmetric in the two sides, and never a conflict.
pub fn merge_set(
    base: &BTreeSet<String>,
    ours: &BTreeSet<String>,
    theirs: &BTreeSet<String>,
) -> BTreeSet<String> {
    let removed = |side: &BTreeSet<String>| base.difference(side).cloned().collect::<BTreeSet<_>>();
    let (removed_ours, removed_theirs) = (removed(ours), removed(theirs));
    base.union(ours)
        .chain(theirs.iter())
        .filter(|member| !removed_ours.contains(*member) && !removed_theirs.contains(*member))
        .cloned()
        .collect()
}

/// The outcome of a three-way text merge.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TextMerge {
    /// The edits did not overlap: the combined text.
    Merged(String),
    /// Both sides changed the same lines differently.
    Overlapping,
}

/// Three-way, line-based text merge (diff3): edits to different lines combine; edits that
/// touch the same lines differently are reported as overlapping, never guessed.
pub fn merge_text(base: &str, ours: &str, theirs: &str) -> TextMerge {
    if ours == theirs || theirs == base {
        return TextMerge::Merged(ours.to_owned());
    }
    if ours == base {
        return TextMerge::Merged(theirs.to_owned());
    }
    // diff3 works on lines; a text without a final newline would make its last line look
    // changed whenever the other side appends, so merge with one and take it off again.
    let with_newline = |s: &str| {
        if s.is_empty() || s.ends_with('\n') {
            s.to_owned()
        } else {
            format!("{s}\n")
        }
    };
    let strip_added = !ours.ends_with('\n') || !theirs.ends_with('\n');
    match diffy::merge(
        &with_newline(base),
        &with_newline(ours),
        &with_newline(theirs),
    ) {
        Ok(mut merged) => {
            if strip_added && merged.ends_with('\n') {
                merged.pop();
            }
            TextMerge::Merged(merged)
        }
        Err(_) => TextMerge::Overlapping,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fields::{Entity, ValidationContext, field_spec};
    use chrono::NaiveDate;
    use proptest::prelude::*;
    use serde_json::json;

    fn ctx() -> ValidationContext {
        ValidationContext::new(NaiveDate::from_ymd_opt(2026, 11, 26).unwrap())
    }

    fn spec(field: &str) -> &'static FieldSpec {
        field_spec(Entity::Client, field).unwrap()
    }

    fn value(field: &str, json: serde_json::Value) -> FieldValue {
        spec(field).parse_json(&json, ctx()).unwrap()
    }

    fn hlc(ms: u64, node: &str) -> Hlc {
        Hlc::new(ms, 0, node).unwrap()
    }

    #[test]
    fn equal_values_are_never_a_conflict_whatever_the_policy() {
        let v = value("nickname", json!("Ami"));
        // nickname is lww, given_name review.
        for field in ["nickname", "given_name"] {
            let r = resolve_concurrent(
                spec(field),
                &FieldValue::NULL,
                Write {
                    value: &v,
                    hlc: &hlc(1, "a"),
                },
                Write {
                    value: &v,
                    hlc: &hlc(2, "b"),
                },
                ctx(),
            );
            assert_eq!(r, Resolution::Same);
        }
    }

    #[test]
    fn lww_picks_the_higher_hlc_and_breaks_ties_by_device() {
        let (old, new) = (
            value("nickname", json!("Ami")),
            value("nickname", json!("Mina")),
        );
        let r = resolve_concurrent(
            spec("nickname"),
            &FieldValue::NULL,
            Write {
                value: &old,
                hlc: &hlc(2, "a"),
            },
            Write {
                value: &new,
                hlc: &hlc(1, "b"),
            },
            ctx(),
        );
        assert_eq!(
            r,
            Resolution::AutoResolved {
                winner: Side::Current
            }
        );
        let r = resolve_concurrent(
            spec("nickname"),
            &FieldValue::NULL,
            Write {
                value: &old,
                hlc: &hlc(1, "a"),
            },
            Write {
                value: &new,
                hlc: &hlc(1, "b"),
            },
            ctx(),
        );
        assert_eq!(
            r,
            Resolution::AutoResolved {
                winner: Side::Incoming
            }
        );
    }

    #[test]
    fn review_fields_get_a_provisional_winner_and_need_review() {
        let (a, b) = (
            value("phone", json!("0401234567")),
            value("phone", json!("0501234567")),
        );
        let r = resolve_concurrent(
            spec("phone"),
            &FieldValue::NULL,
            Write {
                value: &a,
                hlc: &hlc(5, "a"),
            },
            Write {
                value: &b,
                hlc: &hlc(3, "b"),
            },
            ctx(),
        );
        assert_eq!(
            r,
            Resolution::NeedsReview {
                provisional: Side::Current
            }
        );
    }

    #[test]
    fn set_fields_merge_additions_and_removals_of_both_sides() {
        let base = value("languages", json!(["fi", "so"]));
        let ours = value("languages", json!(["fi", "so", "ar"]));
        let theirs = value("languages", json!(["fi", "en"]));
        let r = resolve_concurrent(
            spec("languages"),
            &base,
            Write {
                value: &ours,
                hlc: &hlc(1, "a"),
            },
            Write {
                value: &theirs,
                hlc: &hlc(2, "b"),
            },
            ctx(),
        );
        assert_eq!(
            r,
            Resolution::Merged(value("languages", json!(["ar", "en", "fi"])))
        );
    }

    #[test]
    fn text_edits_to_different_lines_merge_and_overlapping_ones_need_review() {
        let base = "Met at the library.\nNeeds CV help.\nSpeaks some Finnish.\nFollow up in May.";
        let ours = "Met at the library.\nNeeds CV help and a cover letter.\nSpeaks some Finnish.\nFollow up in May.";
        let theirs =
            "Met at the library.\nNeeds CV help.\nSpeaks some Finnish.\nFollow up in June.";
        assert_eq!(
            merge_text(base, ours, theirs),
            TextMerge::Merged(
                "Met at the library.\nNeeds CV help and a cover letter.\nSpeaks some Finnish.\nFollow up in June."
                    .to_owned()
            )
        );
        // Like diff3 everywhere, edits to the same or to adjacent lines are not guessed at.
        let clash =
            "Met at the library.\nNeeds CV help urgently.\nSpeaks some Finnish.\nFollow up in May.";
        assert_eq!(merge_text(base, ours, clash), TextMerge::Overlapping);
        let b = value("notes", json!(base));
        let o = value("notes", json!(ours));
        let c = value("notes", json!(clash));
        let r = resolve_concurrent(
            spec("notes"),
            &b,
            Write {
                value: &o,
                hlc: &hlc(1, "a"),
            },
            Write {
                value: &c,
                hlc: &hlc(2, "b"),
            },
            ctx(),
        );
        assert_eq!(
            r,
            Resolution::NeedsReview {
                provisional: Side::Incoming
            }
        );
    }

    #[test]
    fn a_combination_past_the_fields_limits_needs_review_and_one_within_them_merges() {
        let resolve = |field: &str, base: &FieldValue, ours: &FieldValue, theirs: &FieldValue| {
            resolve_concurrent(
                spec(field),
                base,
                Write {
                    value: ours,
                    hlc: &hlc(1, "a"),
                },
                Write {
                    value: theirs,
                    hlc: &hlc(2, "b"),
                },
                ctx(),
            )
        };
        // Each side rewrites a different line to 10,000 characters: each text is within
        // 20,000, the clean three-way merge is not.
        let long = |c: &str| c.repeat(10_000);
        let base = value("notes", json!("first\nsecond\nthird"));
        let ours = value("notes", json!(format!("{}\nsecond\nthird", long("a"))));
        let theirs = value("notes", json!(format!("first\nsecond\n{}", long("b"))));
        assert_eq!(
            merge_text(
                base.as_text().unwrap(),
                ours.as_text().unwrap(),
                theirs.as_text().unwrap()
            ),
            TextMerge::Merged(format!("{}\nsecond\n{}", long("a"), long("b")))
        );
        assert_eq!(
            resolve("notes", &base, &ours, &theirs),
            Resolution::NeedsReview {
                provisional: Side::Incoming
            }
        );
        let short = value("notes", json!("first\nsecond\nthird, shorter"));
        assert_eq!(
            resolve("notes", &base, &ours, &short),
            Resolution::Merged(value(
                "notes",
                json!(format!("{}\nsecond\nthird, shorter", long("a")))
            ))
        );

        // Each side adds 30 tags to 60: 90 each, 120 together, over the 100 a set may hold.
        let tags = |prefix: &'static str, n: usize| (0..n).map(move |i| format!("{prefix}{i:02}"));
        let base: Vec<String> = tags("t", 60).collect();
        let with = |added: &'static str, n| {
            value(
                "tags",
                json!(
                    base.iter()
                        .cloned()
                        .chain(tags(added, n))
                        .collect::<Vec<_>>()
                ),
            )
        };
        let base_value = value("tags", json!(base));
        assert_eq!(
            resolve("tags", &base_value, &with("a", 30), &with("b", 30)),
            Resolution::NeedsReview {
                provisional: Side::Incoming
            }
        );
        let merged = resolve("tags", &base_value, &with("a", 20), &with("b", 20));
        assert!(
            matches!(&merged, Resolution::Merged(set) if set.as_set().unwrap().len() == 100),
            "exactly 100 members merge: {merged:?}"
        );
    }

    #[test]
    fn appending_to_a_text_without_final_newline_on_both_sides_is_overlapping_only_if_same_place() {
        assert_eq!(
            merge_text("", "", "new"),
            TextMerge::Merged("new".to_owned())
        );
        assert_eq!(
            merge_text("a\nb", "A\nb", "a\nb\nc"),
            TextMerge::Merged("A\nb\nc".to_owned())
        );
    }

    fn member() -> impl Strategy<Value = String> {
        "[a-h]".prop_map(|s| s)
    }

    fn members() -> impl Strategy<Value = BTreeSet<String>> {
        proptest::collection::btree_set(member(), 0..6)
    }

    fn line_edits() -> impl Strategy<Value = Vec<(bool, bool)>> {
        proptest::collection::vec((any::<bool>(), any::<bool>()), 1..12)
    }

    proptest! {
        #[test]
        fn set_merge_is_symmetric_and_keeps_every_addition(base in members(), ours in members(), theirs in members()) {
            let merged = merge_set(&base, &ours, &theirs);
            prop_assert_eq!(&merged, &merge_set(&base, &theirs, &ours));
            for added in ours.difference(&base).chain(theirs.difference(&base)) {
                prop_assert!(merged.contains(added), "addition {} lost", added);
            }
            for removed in base.difference(&ours).chain(base.difference(&theirs)) {
                prop_assert!(!merged.contains(removed), "removal of {} undone", removed);
            }
            for kept in base.intersection(&ours).filter(|m| theirs.contains(*m)) {
                prop_assert!(merged.contains(kept));
            }
        }

        #[test]
        fn set_merge_with_one_unchanged_side_is_the_other_side(base in members(), side in members()) {
            prop_assert_eq!(merge_set(&base, &base, &side), side.clone());
            prop_assert_eq!(merge_set(&base, &side, &side), side);
        }

        #[test]
        fn text_merge_is_order_independent_and_keeps_what_each_side_wrote(
            edits in line_edits(), ours_last in any::<bool>(),
        ) {
            // Base lines are unique; each side may rewrite some lines with its own marker.
            let base: Vec<String> = (0..edits.len()).map(|i| format!("line {i}")).collect();
            let ours: Vec<String> = base.iter().zip(&edits).map(|(l, (o, _))| if *o { format!("{l} ours") } else { l.clone() }).collect();
            let mut theirs: Vec<String> = base.iter().zip(&edits).map(|(l, (_, t))| if *t { format!("{l} theirs") } else { l.clone() }).collect();
            if ours_last { theirs.push("appended by theirs".to_owned()); }
            let (b, o, t) = (base.join("\n"), ours.join("\n"), theirs.join("\n"));
            let forward = merge_text(&b, &o, &t);
            let backward = merge_text(&b, &t, &o);
            prop_assert_eq!(&forward, &backward);
            if let TextMerge::Merged(merged) = forward {
                for line in ours.iter().chain(theirs.iter()).filter(|l| !base.contains(l)) {
                    prop_assert!(merged.lines().any(|m| m == line), "line {:?} lost in {:?}", line, merged);
                }
            } else {
                // Overlap is only reported when both sides rewrote neighbouring or equal lines.
                prop_assert!(edits.iter().any(|(o, t)| *o && *t) || edits.windows(2).any(|w| (w[0].0 && w[1].1) || (w[0].1 && w[1].0)) || ours_last);
            }
        }

        #[test]
        fn text_merge_with_one_unchanged_side_is_the_other_side(base in ".{0,40}", side in ".{0,40}") {
            prop_assert_eq!(merge_text(&base, &base, &side), TextMerge::Merged(side.clone()));
            prop_assert_eq!(merge_text(&base, &side, &base), TextMerge::Merged(side.clone()));
            prop_assert_eq!(merge_text(&base, &side, &side), TextMerge::Merged(side));
        }
    }
}
