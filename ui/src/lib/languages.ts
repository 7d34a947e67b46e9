// The languages offered in pickers: Finland's official and most spoken languages first
// (Vantaa's ten largest foreign languages, DESIGN.md), then others coaches meet often.
// Codes are ISO 639-1 where one exists, else ISO 639-3 (as tandem-domain stores them).
export const COMMON_LANGUAGES: readonly string[] = [
  'fi', 'sv', 'en', 'et', 'ru', 'ar', 'so', 'sq', 'vi', 'ku', 'tr', 'zh', 'fa', 'prs', 'ckb',
  'uk', 'th', 'es', 'fr', 'de', 'pl', 'ti', 'am', 'ps', 'ur', 'hi', 'bn', 'ne', 'tl', 'pt',
  'ro', 'bg', 'lt', 'lv', 'hu', 'it', 'sr', 'bs', 'hr', 'ja', 'ko', 'my', 'sw', 'yo', 'ha',
  'ig', 'om', 'ta', 'te', 'ml', 'pa', 'uz', 'tk', 'ky', 'kk', 'az', 'hy', 'ka', 'he', 'el',
  'nl', 'da', 'no', 'is', 'se', 'mn', 'km', 'lo', 'id', 'ms', 'ln', 'rw', 'wo', 'ff', 'mk',
];
