// The shape of a language's texts: keys to strings with {placeholders}.
export type Messages = Record<string, string>;

/** Labels of one enumeration of one field, as `enum.<field>.<value>` keys. */
export function enumLabels(field: string, labels: Record<string, string>): Messages {
  return Object.fromEntries(
    Object.entries(labels).map(([value, label]) => [`enum.${field}.${value}`, label]),
  );
}
