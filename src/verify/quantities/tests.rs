//! Table tests for reading both languages, matching, the three rules and their messages, the
//! German-only warnings, and the labelled pairs in `tests/data/verify-quantities.toml`.

use std::collections::BTreeSet;

use proptest::prelude::*;

use super::{Kind, Lang, QuantityIssue, check, quantities, source_warnings};

const LABELLED: &str = include_str!(concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/data/verify-quantities.toml"
));

fn values(text: &str, lang: Lang) -> Vec<f64> {
    quantities(text, lang).iter().map(|q| q.value).collect()
}

fn rules(issues: &[QuantityIssue]) -> Vec<&'static str> {
    issues.iter().map(|i| i.rule).collect()
}

#[test]
fn german_numerals_and_scale_words() {
    let de = |t| values(t, Lang::German);
    assert_eq!(de("200 Menschen"), [200.0]);
    assert_eq!(de("1.400 Euro"), [1400.0]);
    assert_eq!(de("1,4 kg"), [1.4]);
    assert_eq!(de("Es sind 3,25 Meter."), [3.25]);
    assert_eq!(de("27.000 Fans"), [27000.0]);
    assert_eq!(de("1.234.567,89 Euro"), [1_234_567.89]);
    assert_eq!(de("27\u{202f}000 Fans"), [27000.0]);
    assert_eq!(de("0,09 Prozent"), [0.09]);
    assert_eq!(de("Es waren -3 Grad."), [-3.0]);
    assert_eq!(de("10–20 Geräte"), [10.0, 20.0]);
    assert_eq!(de("200 Millionen US-Dollar"), [2e8]);
    assert_eq!(de("2,5 Mio. Euro und 3 Mrd. Dollar"), [2.5e6, 3e9]);
    assert_eq!(de("eine 4-Billionen-Dollar-Bewertung"), [4e12]);
    assert_eq!(de("der 200-Millionen-Dollar-Deal"), [2e8]);
    assert_eq!(de("27 Tausend"), [27000.0]);
    assert_eq!(de("2 Billiarden"), [2e15]);
    assert_eq!(de("2 bis 3 Milliarden"), [2e9, 3e9]);
    assert_eq!(de("5 Bio-Eier"), [5.0], "Bio without its dot is organic");
}

#[test]
fn german_number_words() {
    let de = |t| values(t, Lang::German);
    assert_eq!(de("zwei Drittel"), [2.0]);
    assert_eq!(de("Zwei Firmen und zwölf Leute"), [2.0, 12.0]);
    assert_eq!(de("dreißig, hundert, tausend"), [30.0, 100.0, 1000.0]);
    assert_eq!(de("einundzwanzig und zweihundertfünfzig"), [21.0, 250.0]);
    assert_eq!(de("eine Million Menschen"), [1e6]);
    assert_eq!(de("drei Milliarden"), [3e9]);
    assert_eq!(de("um ein Prozent"), [1.0]);
    assert!(de("ein Haus, eine Firma, einen Plan").is_empty());
    assert!(de("Er hat Acht gegeben, die Elf spielte.").is_empty());
    assert!(de("Tausende Menschen, Millionen Nutzer").is_empty());
}

#[test]
fn german_dates_and_kinds() {
    let qs = quantities(
        "Am 1. Januar 2025 und am 3.5. sowie am 01.03.2024",
        Lang::German,
    );
    let got: Vec<(f64, Kind)> = qs.iter().map(|q| (q.value, q.kind)).collect();
    assert_eq!(
        got,
        [
            (1.0, Kind::Day(1)),
            (2025.0, Kind::Plain),
            (3.0, Kind::Day(5)),
            (1.0, Kind::Day(3)),
            (2024.0, Kind::Plain)
        ]
    );
    let percent = quantities("rund 30 Prozent, 1,5 Prozentpunkte, 4 %", Lang::German);
    assert!(
        percent.iter().all(|q| q.kind == Kind::Percent),
        "{percent:?}"
    );
}

#[test]
fn skipped_german_numbers() {
    let de = |t| values(t, Lang::German);
    assert!(de("GB300 NVL72-Systeme und H100-Chips").is_empty());
    assert!(de("siehe https://example.org/a/2025/12 oder max.muster99@example.org").is_empty());
    assert!(de("Der Umsatz wuchs.3 Quelle: Bericht [4]").is_empty());
    assert!(de("um 14:30 Uhr oder 9 Uhr, Endstand 3:1").is_empty());
    assert!(de("in den 90er Jahren, der Befehl `ls -1 2`").is_empty());
    assert_eq!(de("Windows 11"), [11.0]);
}

#[test]
fn english_numerals_and_words() {
    let en = |t| values(t, Lang::English);
    assert_eq!(en("1,400 and 1.4 and 3.25"), [1400.0, 1.4, 3.25]);
    assert_eq!(en("$4 trillion, 4 trillion dollars"), [4e12, 4e12]);
    assert_eq!(
        en("$200 million, $200m, $2bn, USD 200 million"),
        [2e8, 2e8, 2e9, 2e8]
    );
    assert_eq!(en("$0.2 billion and $300k"), [2e8, 3e5]);
    assert_eq!(
        en("27,000 fans, 3.4% and 3.4 per cent"),
        [27000.0, 3.4, 3.4]
    );
    assert_eq!(
        en("two, twelve, twenty, a hundred"),
        [2.0, 12.0, 20.0, 100.0]
    );
    assert_eq!(en("a million, one billion, twenty-five"), [1e6, 1e9, 25.0]);
    assert_eq!(en("two hundred and five"), [205.0]);
    assert_eq!(en("between two and three"), [2.0, 3.0]);
    assert_eq!(en("between 2 and 3 billion"), [2e9, 3e9]);
    assert_eq!(
        en("1.400"),
        [1.4],
        "a German thousands dot left in English reads as 1.4"
    );
    let kinds: Vec<Kind> = quantities("on January 1, 2025 and 3 March, the 21st", Lang::English)
        .iter()
        .map(|q| q.kind)
        .collect();
    assert_eq!(
        kinds,
        [Kind::Day(1), Kind::Plain, Kind::Day(3), Kind::Ordinal]
    );
    assert!(en("at 2:30 p.m. or 9 am").is_empty());
}

/// The brief's clean pairs and more: no issue at all.
#[test]
fn clean_pairs_are_silent() {
    let pairs = [
        (
            "Im Jahr 2025 stieg der Umsatz um 3,4 Prozent auf 1.400 Euro.",
            "In 2025, revenue rose 3.4 percent to €1,400.",
        ),
        ("zwei Drittel", "two thirds"),
        ("ein Drittel der Nutzer", "a third of users"),
        ("eine Milliarde Nutzer", "a billion users"),
        ("eine Milliarde Nutzer", "one billion users"),
        ("eine Milliarde Nutzer", "1 billion users"),
        ("200 Millionen US-Dollar", "$200 million"),
        ("200 Millionen US-Dollar", "200 million dollars"),
        ("200 Millionen US-Dollar", "$200m"),
        ("200 Millionen US-Dollar", "$0.2 billion"),
        ("200 Millionen US-Dollar", "USD 200 million"),
        ("4-Billionen-Dollar-Bewertung", "$4 trillion valuation"),
        ("am 1. Januar 2025", "on January 1, 2025"),
        ("am 1. Januar 2025", "on 1 January 2025"),
        ("im März 2025", "in March 2025"),
        ("Windows 11", "Windows 11"),
        ("rund 30 Prozent", "about 30%"),
        ("GB300 NVL72-Systeme", "GB300 NVL72 systems"),
        ("1.400 Geräte", "1400 devices"),
        ("zwei Geräte", "2 devices"),
        ("-3 Prozent", "down 3 percent"),
        ("50 Prozent der Firmen", "half of the companies"),
        ("10–20 Geräte", "10 to 20 devices"),
        ("2 bis 3 Milliarden", "$2bn to $3bn"),
        ("Die Hälfte von 3,14", "Half of 3.14"),
        ("um 14 Uhr", "at 2 p.m."),
    ];
    for (de, en) in pairs {
        assert_eq!(check(de, en, false), [], "{de} ↔ {en}");
    }
}

#[test]
fn planted_pairs_report_their_rule() {
    let pairs: [(&str, &str, &[&str]); 13] = [
        ("1.400 Geräte", "1.400 devices", &["wrong-scale"]),
        (
            "am 1. Februar 2025",
            "on January 1, 2025",
            &["missing-number"],
        ),
        ("am 01.02.2025", "on 1 January 2025", &["missing-number"]),
        ("4 Billionen Dollar", "$4 billion", &["wrong-scale"]),
        ("4 Milliarden Dollar", "$4 trillion", &["wrong-scale"]),
        (
            "1,4 Milliarden Geräte",
            "1.4 million devices",
            &["wrong-scale"],
        ),
        (
            "1,4 Millionen Geräte",
            "1.4 billion devices",
            &["wrong-scale"],
        ),
        ("1.400 Geräte", "1.4 devices", &["wrong-scale"]),
        ("1,4 Geräte", "1,400 devices", &["wrong-scale"]),
        ("3,14 Meter", "3 meters", &["missing-number"]),
        ("drei Milliarden", "three million", &["wrong-scale"]),
        (
            "Es kamen 35 Gäste.",
            "Some 53 guests came.",
            &["missing-number", "changed-number"],
        ),
        (
            "Es kamen zwei Gäste.",
            "Both guests came.",
            &["missing-number"],
        ),
    ];
    for (de, en, want) in pairs {
        assert_eq!(rules(&check(de, en, false)), want, "{de} ↔ {en}");
    }
}

#[test]
fn messages_spans_and_severity() {
    let de = "Die 4-Billionen-Dollar-Bewertung";
    let en = "The $4 billion valuation";
    let issues = check(de, en, false);
    assert_eq!(
        issues,
        [QuantityIssue {
            rule: "wrong-scale",
            error: true,
            message: "„4-Billionen“ is 4 trillion, the English says 4 billion".into(),
            source_span: Some(4..15),
            output_span: Some(5..14),
        }]
    );
    let issues = check("Es kamen 1.400 Gäste.", "1.4 guests came.", false);
    assert_eq!(issues[0].message, "„1.400“ is 1,400, the English says 1.4");

    let missing = check(
        "Der Umsatz lag bei 1,4 Milliarden Euro.",
        "Revenue was high.",
        false,
    );
    assert_eq!(
        missing[0].message,
        "„1,4 Milliarden“ (1.4 billion) does not appear in the English"
    );
    assert!(missing[0].error);
    let word = check("zwei Firmen", "both firms", false);
    assert!(!word[0].error, "a lost number word is only a warning");

    let day = check("Start am 3. März 2025", "Start in March 2025", false);
    assert_eq!(day[0].message, "„3. März“ does not appear in the English");
    assert_eq!(day[0].source_span, Some(9..17));
    let english_day = quantities("on January 21st, 2025", Lang::English);
    assert_eq!(
        english_day[0].span,
        3..15,
        "the day's span takes in its month"
    );

    let added = check("Es kamen Gäste.", "All 35 guests came.", false);
    assert_eq!(
        added,
        [QuantityIssue {
            rule: "changed-number",
            error: false,
            message: "the English has „35“, which is not in the German".into(),
            source_span: None,
            output_span: Some(4..6),
        }]
    );
}

#[test]
fn changed_number_stays_conservative() {
    let quiet = [
        ("Es kamen Gäste.", "Three of them came."),
        ("Es kamen Gäste.", "Some 5 guests came."),
        ("Im Jahr 2025 und 2025 erneut", "In 2025 and again in 2025"),
        ("Im Jahr 2025 wuchs es", "It grew in 2025, as in 2025"),
        ("Die 1990er Jahre", "The 1990s"),
        ("Der H100-Chip", "The H100 chip, 100 of them"),
        ("am 21. Mai", "on 21st May"),
    ];
    for (de, en) in quiet {
        assert!(
            !rules(&check(de, en, false)).contains(&"changed-number"),
            "{de} ↔ {en}"
        );
    }
}

#[test]
fn german_output_is_read_as_german() {
    assert_eq!(
        check("1.400 Euro und 3,4 Prozent", "1.400 Euro, 3,4 %", true),
        []
    );
    let issues = check("4 Billionen Dollar", "4 Milliarden Dollar", true);
    assert_eq!(
        issues[0].message,
        "„4 Billionen“ is 4 trillion, the German output says 4 Milliarden"
    );
}

#[test]
fn source_warnings_point_at_false_friends() {
    let de = "Eine 4-Billionen-Dollar-Bewertung, 2 Bio. Euro, 1 Billiarde Bytes, Bio-Eier und 3 Milliarden.";
    let warnings = source_warnings(de);
    let shown: Vec<&str> = warnings
        .iter()
        .map(|w| &de[w.source_span.clone().expect("span")])
        .collect();
    assert_eq!(shown, ["4-Billionen", "2 Bio.", "1 Billiarde"]);
    assert!(warnings.iter().all(|w| !w.error && w.rule == "wrong-scale"));
    assert_eq!(
        warnings[0].message,
        "check „4-Billionen“: Billion = 10^12 (trillion); machine translation often turns \
         English 'billion' into 'Billion'"
    );
    assert_eq!(
        source_warnings("Ein Billionenmarkt")[0].source_span,
        Some(4..18)
    );
    assert_eq!(source_warnings("3 Milliarden Euro, 4 Millionen Nutzer"), []);
}

#[derive(serde::Deserialize)]
struct LabelledFile {
    pair: Vec<LabelledPair>,
}

#[derive(serde::Deserialize)]
struct LabelledPair {
    id: String,
    de: String,
    en: String,
    expect: Vec<String>,
}

#[test]
fn labelled_pairs() {
    let file: LabelledFile = toml::from_str(LABELLED).expect("the labelled file is valid TOML");
    assert!(file.pair.len() >= 20);
    let planted = file.pair.iter().filter(|p| !p.expect.is_empty()).count();
    assert!(planted >= 10 && file.pair.len() - planted >= 10);
    for p in &file.pair {
        let found: BTreeSet<String> = check(&p.de, &p.en, false)
            .iter()
            .map(|i| format!("quantity/{}", i.rule))
            .collect();
        let want: BTreeSet<String> = p
            .expect
            .iter()
            .filter(|e| e.starts_with("quantity/"))
            .cloned()
            .collect();
        assert_eq!(found, want, "pair {}", p.id);
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(128))]
    /// Any text, however mangled: no panic, spans on character boundaries.
    #[test]
    fn spans_are_valid(de in "[0-9.,€$% a-zäßB\u{a0}:\\-–\\[\\]]{0,40}", en in "[0-9.,$% a-zmbk\\-]{0,40}") {
        for issue in check(&de, &en, false).into_iter().chain(source_warnings(&de)) {
            if let Some(s) = issue.source_span {
                prop_assert!(de.get(s).is_some_and(|t| !t.is_empty()));
            }
            if let Some(s) = issue.output_span {
                prop_assert!(en.get(s).is_some_and(|t| !t.is_empty()));
            }
        }
    }
}

/// News-style sentences in the shapes machine translation and restoring produce.
#[test]
fn news_pairs_are_silent() {
    let pairs = [
        (
            "Öffnungszeiten: Montag bis Freitag von 8 bis 18 Uhr, samstags von 9 bis 13 Uhr.",
            "Opening hours: Monday to Friday from 8 a.m. to 6 p.m., Saturdays from 9 a.m. to 1 p.m.",
        ),
        (
            "Der Gemeinderat stimmt am 14.05.2025 über die Finanzierung ab.",
            "The council votes on the funding on May 14, 2025.",
        ),
        (
            "Der Gemeinderat stimmt am 14.05.2025 über die Finanzierung ab.",
            "The council votes on the funding on 14 May 2025.",
        ),
        (
            "Kestrels Aktie stieg um 3,4 Prozent auf 212 US-Dollar, was dem Unternehmen einen Marktwert von 140 Milliarden US-Dollar gibt.",
            "Kestrel's shares rose 3.4% to $212, giving the company a market value of $140bn.",
        ),
        (
            "ein Team von 400 Entwicklern, 34 Millionen Abonnenten",
            "a team of 400 developers, 34m subscribers",
        ),
        (
            "Für das Gesamtjahr erwartet der Vorstand ein Plus von 3 bis 5 %.",
            "For the full year, the board expects growth of 3 to 5 percent.",
        ),
        (
            "Das Projekt wird von der EU mit 12 Mio. Euro gefördert.",
            "The project is funded by the EU with €12 million.",
        ),
        (
            "Besonders bekannt sind Künstler des 20. Jahrhunderts.",
            "Artists of the 20th century are particularly well known.",
        ),
        (
            "Der Preis: 3.499 Euro. Das Gewicht liegt bei 22,8 kg.",
            "The price: €3,499. It weighs 22.8 kg.",
        ),
        (
            "Die Löhne steigen um 5,5 % in zwei Stufen: zum 1. Januar und zum 1. Oktober.",
            "Wages rise by 5.5% in two steps: on January 1 and October 1.",
        ),
        (
            "Auszubildende erhalten monatlich 150 Euro mehr.",
            "Apprentices receive €150 more per month.",
        ),
        (
            "Der Zug fährt heute von Gleis 7 statt von Gleis 5 ab.",
            "The train departs from platform 7 instead of platform 5 today.",
        ),
        (
            "Im ersten Halbjahr 2024 verdoppelte sich der Gewinn auf 1,1 Mrd. Euro.",
            "In the first half of 2024, profit doubled to €1.1 billion.",
        ),
        (
            "Rund zwei Drittel der 1.200 Befragten",
            "Around two-thirds of the 1,200 respondents",
        ),
        (
            "Die Zahl der Nutzer stieg von 2,3 auf 3,1 Millionen.",
            "The number of users rose from 2.3 million to 3.1 million.",
        ),
        (
            "Die Zahl der Nutzer stieg von 2,3 auf 3,1 Millionen.",
            "The number of users rose from 2.3 to 3.1 million.",
        ),
        (
            "Der Konzern baut 3.500 Stellen ab, das sind etwa 8 Prozent der Belegschaft.",
            "The group is cutting 3,500 jobs, about 8% of its workforce.",
        ),
        (
            "Die Mission kostete 1,5 Milliarden Dollar.",
            "The mission cost $1.5 billion.",
        ),
        (
            "Der Wert liegt bei minus 2,5 Prozent.",
            "The figure is -2.5 percent.",
        ),
        (
            "Laut Bericht (S. 12) wuchs der Markt um das Dreifache.",
            "According to the report (p. 12), the market tripled.",
        ),
        (
            "Das iPhone 15 kostet 949 Euro.",
            "The iPhone 15 costs €949.",
        ),
        (
            "Apple verkaufte 2023 rund 230 Millionen iPhones.",
            "Apple sold about 230 million iPhones in 2023.",
        ),
        (
            "Um 18 Uhr beginnt die Sitzung.",
            "The meeting starts at 6 p.m.",
        ),
        ("Das Budget beträgt 1,2 Mrd. €.", "The budget is €1.2bn."),
        (
            "Eine halbe Million Menschen demonstrierten.",
            "Half a million people demonstrated.",
        ),
        (
            "Die 2010er-Jahre waren turbulent.",
            "The 2010s were turbulent.",
        ),
        (
            "Die Firma hat 12.000 Mitarbeiter in 40 Ländern.",
            "The firm has 12,000 employees in 40 countries.",
        ),
        (
            "Die Firma hat 12.000 Mitarbeiter in 40 Ländern.",
            "The firm has twelve thousand employees in forty countries.",
        ),
        (
            "Der Kurs fiel um 0,5 Prozentpunkte auf 4,25 Prozent.",
            "The rate fell half a percentage point to 4.25%.",
        ),
        (
            "Seit 2019 sind 5 Jahre vergangen.",
            "Five years have passed since 2019.",
        ),
    ];
    for (de, en) in pairs {
        assert_eq!(check(de, en, false), [], "{de} ↔ {en}");
    }
}
