//! The closed enumerations of DESIGN.md. On the wire and in the store they are their
//! snake_case names; the UI translates them.

use crate::DomainError;

macro_rules! closed_enum {
    ($(#[$doc:meta])* $name:ident, $field:literal { $($variant:ident => $text:literal),+ $(,)? }) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
        pub enum $name { $($variant),+ }

        impl $name {
            /// Every value, in the order of DESIGN.md.
            pub const ALL: &'static [$name] = &[$($name::$variant),+];
            /// The snake_case names, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($text),+];

            /// The snake_case name used on the wire and in the store.
            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text),+ }
            }

            /// Parses a snake_case name; the error lists the allowed names.
            pub fn parse(text: &str) -> Result<Self, DomainError> {
                match text {
                    $($text => Ok($name::$variant),)+
                    other => Err(DomainError::invalid(
                        $field,
                        $crate::Rule::UnknownChoice,
                        format!("unknown value `{other}` (expected one of: {})", Self::NAMES.join(", ")),
                    )),
                }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

closed_enum!(
    /// A client's gender as they state it.
    Gender, "gender" {
        Female => "female", Male => "male", NonBinary => "non_binary", Undisclosed => "undisclosed",
    }
);
closed_enum!(
    /// Labour-market situation (ESF+ common indicator).
    EmploymentStatus, "employment_status" {
        Employed => "employed", Unemployed => "unemployed",
        LongTermUnemployed => "long_term_unemployed", Inactive => "inactive",
        Student => "student", Undisclosed => "undisclosed",
    }
);
closed_enum!(
    /// Highest education by ISCED band (ESF+ common indicator).
    EducationLevel, "education_level" {
        Isced0To2 => "isced_0_2", Isced3To4 => "isced_3_4", Isced5To8 => "isced_5_8",
        Undisclosed => "undisclosed",
    }
);
closed_enum!(
    /// An answer to a sensitive question, where declining is a valid answer.
    YesNoDeclined, "answer" {
        Yes => "yes", No => "no", Declined => "declined",
    }
);
closed_enum!(
    /// Whether and how the client consented to their data being kept.
    Consent, "consent" {
        None => "none", Recorded => "recorded", PartnershipSharing => "partnership_sharing",
    }
);
closed_enum!(
    /// The GDPR lawful basis for keeping the client's data.
    LawfulBasis, "lawful_basis" {
        Consent => "consent", PublicTask => "public_task", LegalObligation => "legal_obligation",
    }
);
closed_enum!(
    /// Situation on leaving the ESF+ operation.
    ExitSituation, "exit_situation" {
        Employed => "employed", JobSeeking => "job_seeking", InEducation => "in_education",
        GainedQualification => "gained_qualification", Other => "other",
    }
);
closed_enum!(
    /// How a contact happened.
    Channel, "channel" {
        DropIn => "drop_in", Appointment => "appointment", Phone => "phone",
        Outreach => "outreach", Group => "group",
    }
);
closed_enum!(
    /// What a contact was about.
    Topic, "topics" {
        Employment => "employment", Education => "education",
        LanguageLearning => "language_learning", Housing => "housing", Health => "health",
        SocialBenefits => "social_benefits", Family => "family",
        DigitalServices => "digital_services", ResidencePermit => "residence_permit",
        Other => "other",
    }
);
closed_enum!(
    /// Where the coach referred the client.
    Referral, "referrals" {
        EmploymentServices => "employment_services", Kela => "kela",
        SocialServices => "social_services", HealthServices => "health_services",
        LanguageCourse => "language_course", NgoActivity => "ngo_activity",
        EducationProvider => "education_provider", Other => "other",
    }
);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_enumeration_round_trips_through_its_name() {
        for g in Gender::ALL {
            assert_eq!(Gender::parse(g.as_str()).unwrap(), *g);
        }
        for t in Topic::ALL {
            assert_eq!(Topic::parse(t.as_str()).unwrap(), *t);
        }
        for r in Referral::ALL {
            assert_eq!(Referral::parse(r.as_str()).unwrap(), *r);
        }
        assert_eq!(Topic::ALL.len(), 10);
        assert_eq!(Referral::ALL.len(), 8);
        assert_eq!(EmploymentStatus::ALL.len(), 6);
    }

    #[test]
    fn an_unknown_enumeration_value_names_the_field_and_the_choices() {
        let err = Channel::parse("carrier_pigeon").unwrap_err().to_string();
        assert!(
            err.starts_with("channel: unknown value `carrier_pigeon`"),
            "{err}"
        );
        assert!(
            err.contains("drop_in, appointment, phone, outreach, group"),
            "{err}"
        );
    }
}
