// The fields of a contact its form edits, each with the control that takes it (the focus of
// a field to correct). A refused change of any other field of a contact (its client, its
// coach, its deletion) has nothing in the form to correct it with.
export const CONTACT_FORM_CONTROLS: Readonly<Record<string, string>> = {
  occurred_at: '#contact-occurred-at',
  topics: '#contact-topics button',
  referrals: '#contact-referrals button',
  service_language: '#contact-service-language',
  interpreter_used: '#contact-interpreter',
  channel: '#contact-channel',
  site: '#contact-site',
  duration_min: '#contact-duration',
  follow_up_on: '#contact-follow-up',
  follow_up_done: '#contact-follow-up-done',
  summary: '#contact-summary',
};
