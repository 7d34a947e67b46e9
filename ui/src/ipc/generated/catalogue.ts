// Generated from Rust by src-tauri/src/typescript.rs; do not edit.
// Regenerate: TANDEM_UPDATE_GENERATED=1 cargo test -p tandem-desktop generated
import type { RejectCode } from './types';

export type FieldInfo = {
  name: string;
  kind: string;
  policy: string;
  required: boolean;
  special_category: boolean;
  values: readonly string[];
  min?: number;
  max?: number;
};

export const CLIENT_FIELDS: readonly FieldInfo[] = [
  {
    "kind": "person_name",
    "name": "given_name",
    "policy": "review",
    "required": true,
    "special_category": false,
    "values": []
  },
  {
    "kind": "person_name",
    "name": "family_name",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "short_text",
    "name": "nickname",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "year",
    "name": "birth_year",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration",
    "name": "gender",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": [
      "female",
      "male",
      "non_binary",
      "undisclosed"
    ]
  },
  {
    "kind": "language_set",
    "name": "languages",
    "policy": "set",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "language",
    "name": "preferred_language",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "bool",
    "name": "interpreter_needed",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "phone",
    "name": "phone",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "email",
    "name": "email",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "short_text",
    "name": "municipality",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "year",
    "name": "arrived_in_finland",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration",
    "name": "employment_status",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": [
      "employed",
      "unemployed",
      "long_term_unemployed",
      "inactive",
      "student",
      "undisclosed"
    ]
  },
  {
    "kind": "enumeration",
    "name": "education_level",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": [
      "isced_0_2",
      "isced_3_4",
      "isced_5_8",
      "undisclosed"
    ]
  },
  {
    "kind": "enumeration",
    "name": "third_country_national",
    "policy": "review",
    "required": false,
    "special_category": true,
    "values": [
      "yes",
      "no",
      "declined"
    ]
  },
  {
    "kind": "enumeration",
    "name": "foreign_background",
    "policy": "review",
    "required": false,
    "special_category": true,
    "values": [
      "yes",
      "no",
      "declined"
    ]
  },
  {
    "kind": "enumeration",
    "name": "disability",
    "policy": "review",
    "required": false,
    "special_category": true,
    "values": [
      "yes",
      "no",
      "declined"
    ]
  },
  {
    "kind": "enumeration",
    "name": "consent",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": [
      "none",
      "recorded",
      "partnership_sharing"
    ]
  },
  {
    "kind": "date",
    "name": "consent_date",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "id",
    "name": "consent_by",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration",
    "name": "lawful_basis",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": [
      "consent",
      "public_task",
      "legal_obligation"
    ]
  },
  {
    "kind": "date",
    "name": "participant_start",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "date",
    "name": "participant_exit",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration",
    "name": "exit_situation",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": [
      "employed",
      "job_seeking",
      "in_education",
      "gained_qualification",
      "other"
    ]
  },
  {
    "kind": "long_text",
    "name": "notes",
    "policy": "text",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "tag_set",
    "name": "tags",
    "policy": "set",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "bool",
    "name": "deleted",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "id",
    "name": "merged_into",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  }
];

export const CONTACT_FIELDS: readonly FieldInfo[] = [
  {
    "kind": "id",
    "name": "client_id",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "date_time",
    "name": "occurred_at",
    "policy": "lww",
    "required": true,
    "special_category": false,
    "values": []
  },
  {
    "kind": "id",
    "name": "site",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "id",
    "name": "coach_id",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration",
    "name": "channel",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": [
      "drop_in",
      "appointment",
      "phone",
      "outreach",
      "group"
    ]
  },
  {
    "kind": "integer",
    "max": 600,
    "min": 0,
    "name": "duration_min",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration_set",
    "name": "topics",
    "policy": "set",
    "required": false,
    "special_category": false,
    "values": [
      "employment",
      "education",
      "language_learning",
      "housing",
      "health",
      "social_benefits",
      "family",
      "digital_services",
      "residence_permit",
      "other"
    ]
  },
  {
    "kind": "language",
    "name": "service_language",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "bool",
    "name": "interpreter_used",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "enumeration_set",
    "name": "referrals",
    "policy": "set",
    "required": false,
    "special_category": false,
    "values": [
      "employment_services",
      "kela",
      "social_services",
      "health_services",
      "language_course",
      "ngo_activity",
      "education_provider",
      "other"
    ]
  },
  {
    "kind": "long_text",
    "name": "summary",
    "policy": "text",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "date",
    "name": "follow_up_on",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "bool",
    "name": "follow_up_done",
    "policy": "lww",
    "required": false,
    "special_category": false,
    "values": []
  },
  {
    "kind": "bool",
    "name": "deleted",
    "policy": "review",
    "required": false,
    "special_category": false,
    "values": []
  }
];

/** Every code of a refused change (the UI explains each). */
export const REJECT_CODES: readonly RejectCode[] = [
  "invalid_value",
  "unknown_field",
  "unknown_site",
  "user_not_in_team",
  "lawful_basis_required",
  "lawful_basis_in_use",
  "record_erased",
  "other_team",
  "invalid_change",
  "other"
];
