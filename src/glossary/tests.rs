use std::fs;
use std::path::PathBuf;

use super::*;

fn write(dir: &tempfile::TempDir, name: &str, text: &str) -> PathBuf {
    let path = dir.path().join(name);
    fs::write(&path, text).expect("write glossary");
    path
}

fn load(name: &str, text: &str) -> Result<Glossary, GlossaryError> {
    let dir = tempfile::tempdir().expect("temp dir");
    Glossary::load(&write(&dir, name, text))
}

fn pairs(glossary: &Glossary) -> Vec<(&str, &str)> {
    let terms = glossary.terms().iter();
    terms.map(|t| (t.de.as_str(), t.en.as_str())).collect()
}

fn glossary(terms: &[(&str, &str)]) -> Glossary {
    Glossary::from_terms(terms.iter().map(|(de, en)| Term::new(*de, *en)).collect())
}

fn hit_names<'a>(glossary: &'a Glossary, text: &str) -> Vec<&'a str> {
    let hits = glossary.hits(text);
    hits.into_iter().map(|t| t.de.as_str()).collect()
}

fn parse_error(name: &str, text: &str) -> (Option<usize>, String) {
    match load(name, text) {
        Err(err @ GlossaryError::Parse { line, .. }) => (line, err.to_string()),
        other => panic!("expected a parse error, got {other:?}"),
    }
}

#[test]
fn toml_keeps_file_order_and_names_its_source() {
    let dir = tempfile::tempdir().expect("temp dir");
    let path = write(
        &dir,
        "Begriffe.TOML",
        "\u{feff}# product names\n[terms]\n\"Kopilot\" = \"Copilot\"\n\"Der Rand\" = \"The Verge\"\nAzure = \"Azure\"\n",
    );
    let glossary = Glossary::load(&path).expect("loads");
    assert_eq!(
        pairs(&glossary),
        [
            ("Kopilot", "Copilot"),
            ("Der Rand", "The Verge"),
            ("Azure", "Azure")
        ]
    );
    assert!(glossary.terms()[2].keeps());
    assert_eq!(glossary.sources(), [path]);
    assert!(load("empty.toml", "").expect("loads").is_empty());
}

#[test]
fn toml_errors_name_file_and_line() {
    let (line, message) = parse_error("g.toml", "[terms]\nA = \"B\"\n\n[extra]\nx = 1\n");
    assert_eq!(line, Some(4));
    assert!(message.starts_with("glossary ") && message.contains("g.toml, line 4: "));
    assert!(message.contains("unknown field `extra`"), "{message}");

    let (line, _) = parse_error("g.toml", "[terms]\nA = \"B\"\nC = 3\n");
    assert_eq!(line, Some(3));
    let (line, message) = parse_error("g.toml", "[terms]\nA = \"B\"\n\"Kopilot\" = \"  \"\n");
    assert_eq!(line, Some(3));
    assert!(message.contains("English term is empty"), "{message}");
    let (line, _) = parse_error("g.toml", "[terms]\nA = \"B\"\nA = \"C\"\n");
    assert_eq!(line, Some(3));
}

#[test]
fn csv_header_comments_quotes_and_bom() {
    let text = "\u{feff}DE,En\n# names first\n\nKopilot,Copilot\n\"Der Rand\", \"The Verge\"\n\"Schulz, Müller & Co.\",\"Schulz, Müller & Co.\"\n\"Er sagte \"\"nein\"\"\",He said no\n";
    let glossary = load("terms.csv", text).expect("loads");
    assert_eq!(
        pairs(&glossary),
        [
            ("Kopilot", "Copilot"),
            ("Der Rand", "The Verge"),
            ("Schulz, Müller & Co.", "Schulz, Müller & Co."),
            ("Er sagte \"nein\"", "He said no"),
        ]
    );
    // A first row that is not `de,en` is a term, not a header.
    let glossary = load("terms.csv", "Kopilot,Copilot\nde,en\n").expect("loads");
    assert_eq!(glossary.len(), 2);
}

#[test]
fn csv_with_semicolons_from_a_german_spreadsheet() {
    let glossary = load("terms.csv", "de;en\nKI-Chips;AI chips\n").expect("loads");
    assert_eq!(pairs(&glossary), [("KI-Chips", "AI chips")]);
}

#[test]
fn csv_errors_name_file_and_line() {
    let (line, message) = parse_error("terms.csv", "de,en\nA,B\nC,D,E\n");
    assert_eq!(line, Some(3));
    assert!(
        message.contains("terms.csv, line 3: expected 2 columns"),
        "{message}"
    );
    let (line, message) = parse_error("terms.csv", "A,B\n,D\n");
    assert_eq!(line, Some(2));
    assert!(message.contains("German term is empty"), "{message}");
    let (line, _) = parse_error("terms.csv", "A,B\nKopilot\n");
    assert_eq!(line, Some(2));
}

#[test]
fn duplicates_conflict_or_collapse() {
    let (line, message) = parse_error("terms.csv", "Kopilot,Copilot\nA,B\nKopilot,Co-Pilot\n");
    assert_eq!(line, Some(3));
    assert!(
        message.contains("but to \"Copilot\" on line 1"),
        "{message}"
    );
    let glossary = load("terms.csv", "Kopilot,Copilot\n Kopilot , Copilot\n").expect("loads");
    assert_eq!(glossary.len(), 1);
}

#[test]
fn read_format_and_encoding_errors() {
    let dir = tempfile::tempdir().expect("temp dir");
    let err = Glossary::load(&dir.path().join("missing.csv")).unwrap_err();
    assert!(matches!(err, GlossaryError::Read { .. }), "{err:?}");
    let err = Glossary::load(&write(&dir, "terms.txt", "A,B\n")).unwrap_err();
    assert!(
        matches!(err, GlossaryError::UnknownFormat { .. }),
        "{err:?}"
    );
    assert!(err.hint().expect("hint").contains(".csv"));

    let path = dir.path().join("latin1.csv");
    fs::write(&path, b"A,B\nGr\xf6\xdfe,size\n").expect("write");
    let err = Glossary::load(&path).unwrap_err();
    assert!(
        matches!(err, GlossaryError::NotUtf8 { line: 2, .. }),
        "{err:?}"
    );
    assert!(err.to_string().contains("latin1.csv: line 2"));
    assert!(err.hint().expect("hint").contains("UTF-8"));
}

#[test]
fn hits_respect_word_boundaries() {
    let g = glossary(&[("KI", "AI"), ("Rand", "edge"), ("Kopilot", "Copilot")]);
    assert_eq!(hit_names(&g, "Neue KI-Chips kommen."), ["KI"]);
    assert!(hit_names(&g, "Im Randbereich und am Bildschirmrand.").is_empty());
    assert!(hit_names(&g, "KIOSK, SKI und Kopilotin").is_empty());
    assert_eq!(hit_names(&g, "(KI)"), ["KI"]);
    assert_eq!(hit_names(&g, "Funktionen des Kopiloten"), ["Kopilot"]);
    assert_eq!(hit_names(&g, "am Rande"), ["Rand"]);
}

#[test]
fn hits_multiword_umlauts_and_first_letter_case() {
    let g = glossary(&[
        ("Der Rand", "The Verge"),
        ("Übersetzer", "Translator"),
        ("Windows-Integritäts-Dashboard", "Windows Health Dashboard"),
    ]);
    assert_eq!(hit_names(&g, "Laut der\n  Rand heißt es"), ["Der Rand"]);
    assert!(hit_names(&g, "Der Randstreifen, DER RAND, DerRand").is_empty());
    assert_eq!(hit_names(&g, "ein übersetzer"), ["Übersetzer"]);
    assert!(hit_names(&g, "die Übersetzerin, Rückübersetzer").is_empty());
    assert_eq!(
        hit_names(&g, "im Windows-Integritäts-Dashboard."),
        ["Windows-Integritäts-Dashboard"]
    );
    // Decomposed umlauts continue a word.
    let g = glossary(&[("Bru", "x")]);
    assert!(hit_names(&g, "Bru\u{308}cke").is_empty());
}

#[test]
fn hits_are_ordered_by_first_occurrence_and_unique() {
    let g = glossary(&[
        ("Azure", "Azure"),
        ("Rand", "edge"),
        ("Der Rand", "The Verge"),
    ]);
    let text = "Der Rand berichtet über Azure. Azure wächst, der Rand nicht.";
    assert_eq!(hit_names(&g, text), ["Der Rand", "Rand", "Azure"]);
    assert!(g.hits("").is_empty());
}

#[test]
fn hits_scale_to_many_terms() {
    let terms = (0..1000).map(|i| Term::new(format!("Begriff{i}"), format!("term{i}")));
    let g = Glossary::from_terms(terms.collect());
    let text = "Ein Satz mit Begriff999 und Begriff7. ".repeat(2000);
    assert_eq!(hit_names(&g, &text), ["Begriff999", "Begriff7"]);
}

#[test]
fn from_terms_and_merge_let_later_win() {
    let a = glossary(&[
        ("Kopilot", "Co-pilot"),
        ("KI", "AI"),
        ("  ", "x"),
        ("Leer", ""),
    ]);
    assert_eq!(pairs(&a), [("Kopilot", "Co-pilot"), ("KI", "AI")]);
    let b = glossary(&[("Kopilot", "Copilot"), ("Der Rand", "The Verge")]);
    let merged = a.merge(b);
    assert_eq!(
        pairs(&merged),
        [
            ("Kopilot", "Copilot"),
            ("KI", "AI"),
            ("Der Rand", "The Verge")
        ]
    );
}

#[test]
fn hash_depends_on_terms_only() {
    let a = glossary(&[("KI", "AI"), ("Kopilot", "Copilot")]);
    let b = glossary(&[("Kopilot", "Copilot"), ("KI", "AI")]);
    assert_eq!(a.hash(), b.hash());
    assert_eq!(a.hash().len(), 16);
    assert_ne!(
        a.hash(),
        glossary(&[("KI", "AI"), ("Kopilot", "CoPilot")]).hash()
    );
    // Moving text between the two sides changes the hash.
    assert_ne!(
        glossary(&[("ab", "c")]).hash(),
        glossary(&[("a", "bc")]).hash()
    );
    assert_eq!(Glossary::default().hash(), Glossary::default().hash());
    let loaded = load("g.toml", "[terms]\nKI = \"AI\"\nKopilot = \"Copilot\"\n").expect("loads");
    assert_eq!(loaded.hash(), a.hash());
}

#[test]
fn terms_serialize_for_the_request() {
    let json = serde_json::to_string(&Term::new("Kopilot", "Copilot")).expect("serializes");
    assert_eq!(json, r#"{"de":"Kopilot","en":"Copilot"}"#);
}
