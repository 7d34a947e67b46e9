//! No client data in any log line, on the laptop side: two laptops run `tandem` with
//! `RUST_LOG=trace` (and a backtrace on), register a client with distinctive values, sync,
//! edit it into a review conflict that the team lead resolves, and try an invalid value; then
//! every line the commands wrote is searched for those values. Standard error is searched for
//! every command; standard output too, except for the commands whose job is to show a
//! client (`client show`, `conflicts list`), which show it to the person who asked. The
//! desktop app keeps no log file and logs nothing (it has no logger; see docs/security.md).

use std::process::Output;

use crate::sync_server::{PASSWORD, server};
use crate::{TestStore, output_with_input};

/// Values that must never reach a log line; each is unusual enough not to occur by chance.
const SECRETS: &[&str] = &[
    "Xochiquetzal",
    "Ölçekçioğlu",
    "Мирославовна",
    "Wqxzyborg",
    "+358401239876",
    "401239876",
    "zorblatt@example.fi",
    "Salaisuus-muistiinpano",
    "Ratkaistu-Vwxyzq",
];

/// What the commands wrote, by command, and whether standard output is a log or a display.
#[derive(Default)]
struct Transcript {
    lines: Vec<(String, String)>,
}

impl Transcript {
    fn record(&mut self, args: &[&str], output: &Output, stdout_is_display: bool) {
        let command = args.join(" ");
        let mut add = |stream: &str, bytes: &[u8]| {
            for line in String::from_utf8_lossy(bytes).lines() {
                self.lines
                    .push((format!("tandem {command} ({stream})"), line.to_owned()));
            }
        };
        add("stderr", &output.stderr);
        if !stdout_is_display {
            add("stdout", &output.stdout);
        }
    }

    fn run(&mut self, store: &TestStore, args: &[&str], stdin: Option<&str>) -> Output {
        let output = run_traced(store, args, stdin);
        self.record(args, &output, false);
        output
    }

    fn ok(&mut self, store: &TestStore, args: &[&str]) -> String {
        let output = self.run(store, args, None);
        assert!(
            output.status.success(),
            "tandem {args:?}: {}",
            String::from_utf8_lossy(&output.stderr)
        );
        String::from_utf8_lossy(&output.stdout).trim().to_owned()
    }

    /// A command that shows client data to the person who asked: only its errors count.
    fn display(&mut self, store: &TestStore, args: &[&str]) -> String {
        let output = run_traced(store, args, None);
        self.record(args, &output, true);
        assert!(output.status.success(), "tandem {args:?}");
        String::from_utf8_lossy(&output.stdout).into_owned()
    }
}

fn run_traced(store: &TestStore, args: &[&str], stdin: Option<&str>) -> Output {
    let mut command = store.command(args);
    command.env("RUST_LOG", "trace").env("RUST_BACKTRACE", "1");
    output_with_input(command, stdin.unwrap_or_default().as_bytes())
}

#[test]
fn no_client_value_reaches_any_log_line_of_the_cli_at_trace_level() {
    let server = server();
    let team = server.new_team();
    let (lead, coach) = (TestStore::new(), TestStore::new());
    let mut log = Transcript::default();
    for (store, user) in [(&lead, &team.lead), (&coach, &team.coach)] {
        log.ok(store, &["init"]);
        let login = [
            "login",
            "--server",
            &server.base,
            "--username",
            user,
            "--password-stdin",
        ];
        let output = log.run(store, &login, Some(&format!("{PASSWORD}\n")));
        assert!(output.status.success(), "{output:?}");
    }
    let id = log.ok(
        &lead,
        &[
            "client",
            "add",
            "--given-name",
            "Xochiquetzal",
            "--family-name",
            "Ölçekçioğlu",
            "--phone",
            "+358401239876",
            "--email",
            "zorblatt@example.fi",
            "--notes",
            "Salaisuus-muistiinpano",
        ],
    );
    log.ok(&lead, &["sync"]);
    log.ok(&coach, &["sync"]);
    // The same review field on both laptops: a conflict for the lead to resolve.
    log.ok(
        &lead,
        &["client", "edit", &id, "--given-name", "Мирославовна"],
    );
    log.ok(
        &coach,
        &["client", "edit", &id, "--given-name", "Wqxzyborg"],
    );
    log.ok(&lead, &["sync"]);
    log.ok(&coach, &["sync"]);
    log.ok(&lead, &["sync"]);
    let listed = log.display(&lead, &["--json", "conflicts", "list"]);
    let conflicts: serde_json::Value = serde_json::from_str(&listed).unwrap();
    let conflict_id = conflicts[0]["detail"]["id"].to_string();
    log.ok(
        &lead,
        &[
            "conflicts",
            "resolve",
            &conflict_id,
            "--value",
            "\"Ratkaistu-Vwxyzq\"",
        ],
    );
    log.ok(&coach, &["sync"]);
    let shown = log.display(&coach, &["client", "show", &id]);
    assert!(shown.contains("Ratkaistu-Vwxyzq"), "{shown}");
    // An invalid value is refused; the refusal names the field, not the other values.
    let refused = log.run(
        &coach,
        &["client", "edit", &id, "--phone", "not a phone"],
        None,
    );
    assert!(!refused.status.success());
    assert!(
        String::from_utf8_lossy(&refused.stderr).contains("phone"),
        "{refused:?}"
    );
    log.ok(&coach, &["status"]);
    log.display(&coach, &["rejected", "list"]);
    log.ok(&lead, &["sync"]);

    assert!(log.lines.len() > 10, "too little output to be a test");
    let leaks: Vec<String> = log
        .lines
        .iter()
        .filter_map(|(command, line)| {
            SECRETS
                .iter()
                .find(|secret| line.contains(**secret))
                .map(|secret| format!("{command}: {secret} in {line:?}"))
        })
        .collect();
    assert!(
        leaks.is_empty(),
        "client data in output:\n{}",
        leaks.join("\n")
    );
}
