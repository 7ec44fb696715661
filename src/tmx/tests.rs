use super::*;

fn written(units: &[Unit]) -> String {
    let mut out = Vec::new();
    let mut writer = Writer::start(&mut out, "1.2.3", 0, Langs::default()).unwrap();
    for unit in units {
        writer.unit(unit).unwrap();
    }
    assert_eq!(writer.finish().unwrap(), units.len());
    String::from_utf8(out).unwrap()
}

fn unit<'a>(german: &'a str, protected: &'a [Range<usize>], english: &'a str) -> Unit<'a> {
    Unit {
        german,
        protected,
        english,
        created: 1_700_000_000,
        file: Some("a&b.de.md"),
        backend: "openai",
        model: "gpt-<x>",
        review: None,
    }
}

/// A German with inline code and a URL, and their protected ranges.
fn code_and_url() -> (&'static str, [Range<usize>; 2]) {
    let german = "Rufe `a<b>` auf, siehe https://x.org/?a=1&b=2.";
    let code = german.find('`').unwrap();
    let url = german.find("https").unwrap();
    let protected = [
        code..code + "`a<b>`".len(),
        url..url + "https://x.org/?a=1&b=2".len(),
    ];
    (german, protected)
}

#[test]
fn tmx_dates_are_utc_basic_format() {
    assert_eq!(date(0), "19700101T000000Z");
    assert_eq!(date(1_700_000_000), "20231114T221320Z");
    // A leap day, and the last second of a year.
    assert_eq!(date(951_782_400), "20000229T000000Z");
    assert_eq!(date(1_735_689_599), "20241231T235959Z");
    assert_eq!(date(-1), "19691231T235959Z");
}

#[test]
fn protected_spans_are_ph_elements_paired_by_x() {
    let (german, protected) = code_and_url();
    // The English moved the spans around.
    let english = "See https://x.org/?a=1&b=2 and call `a<b>`.";
    let tmx = written(&[unit(german, &protected, english)]);
    assert!(
        tmx.contains(
            "<tuv xml:lang=\"de\"><seg>Rufe <ph x=\"1\">`a&lt;b&gt;`</ph> auf, siehe \
             <ph x=\"2\">https://x.org/?a=1&amp;b=2</ph>.</seg></tuv>"
        ),
        "{tmx}"
    );
    assert!(
        tmx.contains(
            "<tuv xml:lang=\"en\"><seg>See <ph x=\"2\">https://x.org/?a=1&amp;b=2</ph> and \
             call <ph x=\"1\">`a&lt;b&gt;`</ph>.</seg></tuv>"
        ),
        "{tmx}"
    );
}

#[test]
fn a_unit_has_its_properties_before_its_variants() {
    let tmx = written(&[unit("Hallo.", &[], "Hello.")]);
    let expected = "    <tu creationtool=\"klartext\" creationdate=\"20231114T221320Z\">
      <prop type=\"x-file\">a&amp;b.de.md</prop>
      <prop type=\"x-backend\">openai</prop>
      <prop type=\"x-model\">gpt-&lt;x&gt;</prop>
      <tuv xml:lang=\"de\"><seg>Hallo.</seg></tuv>
      <tuv xml:lang=\"en\"><seg>Hello.</seg></tuv>
    </tu>
";
    assert!(tmx.contains(expected), "{tmx}");
    assert!(tmx.starts_with(
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<!DOCTYPE tmx SYSTEM \"tmx14.dtd\">\n\
         <tmx version=\"1.4\">\n  <header creationtool=\"klartext\" creationtoolversion=\"1.2.3\" \
         datatype=\"plaintext\" segtype=\"paragraph\" adminlang=\"en\" srclang=\"de\" \
         o-tmf=\"klartext\" creationdate=\"19700101T000000Z\"/>\n  <body>\n"
    ));
    assert!(tmx.ends_with("  </body>\n</tmx>\n"));
    // What a reviewer made of it is one more property, still before the variants.
    let reviewed = Unit {
        review: Some("edited"),
        ..unit("Hallo.", &[], "Hi there.")
    };
    assert!(
        written(&[reviewed]).contains(
            "<prop type=\"x-model\">gpt-&lt;x&gt;</prop>\n      \
             <prop type=\"x-review\">edited</prop>\n      <tuv xml:lang=\"de\">"
        ),
        "{tmx}"
    );
}

#[test]
fn spans_are_found_again_in_a_cached_segment() {
    let text = "Rufe `npm ci` auf, siehe [die Anleitung](https://x.org/a) oder https://y.org.";
    let spans: Vec<&str> = protected_spans(text)
        .into_iter()
        .map(|r| &text[r])
        .collect();
    assert!(spans.contains(&"`npm ci`"), "{spans:?}");
    assert!(
        spans.iter().any(|s| s.contains("https://x.org/a")),
        "{spans:?}"
    );
    assert!(spans.contains(&"https://y.org"), "{spans:?}");
    // Markdown that would make two segments of it: plain text then.
    let plain = "# kein Titel\nhttps://z.org und so";
    let spans: Vec<&str> = protected_spans(plain)
        .into_iter()
        .map(|r| &plain[r])
        .collect();
    assert_eq!(spans, vec!["https://z.org"]);
}

#[test]
fn a_written_memory_reads_back_with_its_spans_as_text() {
    let (german, protected) = code_and_url();
    let english = "See https://x.org/?a=1&b=2 and call `a<b>`.\r\nSecond line.";
    let tmx = written(&[unit(german, &protected, english)]);
    let mut memory = Memory::default();
    assert_eq!(memory.add_tmx(&tmx), Ok(1));
    assert_eq!(
        memory.get(german),
        Some("See https://x.org/?a=1&b=2 and call `a<b>`.\r\nSecond line.")
    );
    // Whitespace does not matter.
    assert!(
        memory
            .get(&format!("  {}", german.replace(' ', "\n ")))
            .is_some()
    );
    assert_eq!(memory.get("Rufe auf."), None);
}

#[test]
fn other_tools_memories_read_too() {
    let tmx = "\u{feff}<?xml version='1.0' encoding='UTF-8'?>
<!-- from another tool -->
<!DOCTYPE tmx SYSTEM 'tmx14.dtd' [ <!ENTITY x 'y'> ]>
<tmx version='1.4'><header creationtool='t' creationtoolversion='1' segtype='sentence'
  o-tmf='x' adminlang='en-US' srclang='DE-DE' datatype='html'/>
<body>
<tu tuid='1'><prop type='x'>p</prop>
  <tuv lang='de-DE'><seg>Das ist <bpt i='1'>&lt;b></bpt>fett<ept i='1'>&lt;/b></ept>.</seg></tuv>
  <tuv xml:lang='fr'><seg>C'est gras.</seg></tuv>
  <tuv xml:lang='en-GB'><seg>That is <bpt i='1'>&lt;b></bpt>bold<ept i='1'>&lt;/b></ept>.</seg></tuv>
</tu>
<tu><tuv xml:lang='de'><seg><![CDATA[A & <B>]]></seg></tuv><tuv xml:lang='en'><seg>A &#38; &#x3C;B&gt;</seg></tuv></tu>
<tu><tuv xml:lang='de'><seg>Nur Deutsch</seg></tuv></tu>
</body></tmx>";
    let mut memory = Memory::default();
    assert_eq!(memory.add_tmx(tmx), Ok(2));
    assert_eq!(
        memory.get("Das ist <b>fett</b>."),
        Some("That is <b>bold</b>.")
    );
    assert_eq!(memory.get("A & <B>"), Some("A & <B>"));
    assert_eq!(memory.get("Nur Deutsch"), None);
}

#[test]
fn what_is_not_tmx_is_an_error_with_its_line() {
    let mut memory = Memory::default();
    assert_eq!(
        memory
            .add_tmx("<?xml version='1.0'?>\n<xliff/>")
            .unwrap_err()
            .line,
        2
    );
    assert!(memory.add_tmx("plain text").is_err());
    assert!(
        memory
            .add_tmx("<tmx><body><tu><tuv xml:lang='de'><seg>a &nbsp; b</seg>")
            .unwrap_err()
            .message
            .contains("&nbsp;")
    );
}
