# shellcheck shell=bash
# The demo of scripts/run, inside a private keyring session (see scripts/with-keyring).
set -euo pipefail

export PATH="$TANDEM_BIN_DIR:$PATH"
export TANDEM_DATA_DIR="$HOME/tandem-demo"

say() { printf '\n\033[1m$ %s\033[0m\n' "$*"; "$@"; }

tandem init
tandem client import >/dev/null <<'JSONL'
{"given_name": "Amina", "family_name": "Warsame", "birth_year": 1988, "gender": "female", "languages": ["so", "fi"], "phone": "040 123 4567", "employment_status": "unemployed"}
{"given_name": "Мария", "family_name": "Иванова", "birth_year": 1975, "gender": "female", "languages": ["ru", "et"], "preferred_language": "ru"}
{"given_name": "فاطمة", "family_name": "الحسن", "birth_year": 1996, "gender": "female", "languages": ["ar"], "interpreter_needed": true}
{"given_name": "Matti", "family_name": "Häkkinen", "birth_year": 1969, "gender": "male", "languages": ["fi"]}
{"given_name": "Nguyễn", "family_name": "Văn An", "birth_year": 2001, "gender": "non_binary", "languages": ["vi", "en"]}
{"given_name": "Arben", "family_name": "Krasniqi", "birth_year": 1990, "gender": "male", "languages": ["sq"], "email": "arben@example.fi"}
JSONL
amina=$(tandem client search warsame --json | python3 -c 'import json,sys; print(json.load(sys.stdin)[0]["id"])')
tandem contact add --client "$amina" --topic employment --topic language_learning \
  --referral employment_services --summary "CV reviewed; wants a logistics course." \
  --follow-up-on "$(date -d '+7 days' +%F)" >/dev/null
tandem contact add --anonymous --topic digital_services >/dev/null

echo "A demo store with six clients is ready (data directory $TANDEM_DATA_DIR)."
say tandem client list
say tandem client search hakkinen
say tandem client search мария
say tandem client show "$amina"
say tandem status

if [ -t 0 ] && [ -t 1 ]; then
  cat <<'TEXT'

Try it yourself: `tandem --help`, `tandem client add --given-name ...`, `tandem client search ...`.
The demo store and its key disappear when you leave this shell (exit or Ctrl-D).
TEXT
  PS1='tandem-demo$ ' exec bash --norc -i
fi
