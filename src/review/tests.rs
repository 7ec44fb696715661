//! Scripted review sessions against the pure state machine, and the screen drawn into ratatui's
//! `TestBackend` at 80×24 and 200×50 (and across a resize).

use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyModifiers};

use super::*;
use crate::files::{LineEnding, TextEncoding};
use crate::verify::Severity;

fn paragraph(id: &str, german: &str, old: &str, new: &str) -> Paragraph {
    Paragraph {
        id: id.parse().expect("an id like s3"),
        german: german.into(),
        repaired: None,
        repairs: vec![],
        protected: vec![],
        old: Some(old.into()),
        new: new.into(),
        notes: vec![],
        findings: vec![],
    }
}

fn record() -> Record {
    let mut third = paragraph(
        "s3",
        "Der Umsatz stieg auf 4 Billionen Dollar, sagte er „heute“.",
        "Sales rose to 4 trillion dollars, he said \"today\".",
        "Revenue rose to $4 trillion, he said “today”.",
    );
    third.findings.push(record::FindingNote {
        severity: Severity::Warning,
        message: "check „4 Billionen“: Billion = 10^12 (trillion)".into(),
        check: None,
    });
    third
        .notes
        .push("kept the trillion: the German says Billionen".into());
    Record {
        schema: record::RECORD_SCHEMA.into(),
        input: "report.de.md".into(),
        output: "report.en.md".into(),
        encoding: TextEncoding::Utf8 { bom: false },
        line_ending: LineEnding::Lf,
        titles: ("draft · deepl".into(), "final · openai".into()),
        to: "en".into(),
        blocks: vec![
            "# ".into(),
            "\n\n".into(),
            "\n\n".into(),
            "\n\n".into(),
            "\n".into(),
        ],
        paragraphs: vec![
            paragraph("s0", "Bericht", "Report", "Report"),
            paragraph(
                "s1",
                "Die Firma war am hinteren Fuß.",
                "The company was on the rear foot.",
                "The company was on the back foot.",
            ),
            paragraph(
                "s2",
                "Das Team liefert - pünktlich.",
                "The team delivers - on time .",
                "The team delivers – on time.",
            ),
            third,
        ],
    }
}

fn review_of(records: Vec<Record>, size: (u16, u16)) -> Review {
    let docs = records
        .into_iter()
        .map(|record| {
            let on_disk = record.as_written();
            Doc::new(record.output.clone(), record, &Decisions::new("x"), on_disk)
        })
        .collect();
    Review::new(docs, size, screen::extent)
}

fn review() -> Review {
    review_of(vec![record()], (80, 24))
}

/// Keys as typed: plain characters, or `<Enter>`, `<Tab>`, `<S-Tab>`, `<Esc>`, `<BS>`,
/// `<C-x>`.
fn press(review: &mut Review, script: &str) -> Vec<Effect> {
    let mut effects = Vec::new();
    let mut chars = script.chars().peekable();
    while let Some(c) = chars.next() {
        let key = if c == '<' && chars.peek().is_some_and(|n| n.is_ascii_uppercase()) {
            let name: String = chars.by_ref().take_while(|&c| c != '>').collect();
            match name.as_str() {
                "Enter" => KeyEvent::new(KeyCode::Enter, KeyModifiers::NONE),
                "Tab" => KeyEvent::new(KeyCode::Tab, KeyModifiers::NONE),
                "S-Tab" => KeyEvent::new(KeyCode::BackTab, KeyModifiers::SHIFT),
                "Esc" => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
                "BS" => KeyEvent::new(KeyCode::Backspace, KeyModifiers::NONE),
                "Down" => KeyEvent::new(KeyCode::Down, KeyModifiers::NONE),
                ctrl if ctrl.starts_with("C-") => KeyEvent::new(
                    KeyCode::Char(ctrl.chars().nth(2).expect("a key after C-")),
                    KeyModifiers::CONTROL,
                ),
                other => panic!("unknown key <{other}>"),
            }
        } else {
            KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)
        };
        effects.push(keys::press(review, key));
    }
    effects
}

fn results(review: &Review) -> Vec<String> {
    review.docs[0]
        .items
        .iter()
        .map(|i| i.result().into_owned())
        .collect()
}

#[test]
fn only_paragraphs_with_changes_are_reviewed() {
    let review = review();
    assert_eq!(review.len(), 3, "s0 is the same in draft and final");
    assert_eq!(review.current(), Some((0, 0, 1)));
    assert_eq!(review.counts().pending, 3);
}

#[test]
fn accept_reject_and_skip_advance() {
    let mut review = review();
    let effects = press(&mut review, "ars");
    assert_eq!(effects[0], Effect::Save(vec![0]));
    assert_eq!(effects[1], Effect::Save(vec![0]));
    assert_eq!(effects[2], Effect::None);
    // Skipping the last pending paragraph ends on the closing screen, s3 still pending.
    assert!(review.summary);
    let counts = review.counts();
    assert_eq!(
        (counts.accepted, counts.rejected, counts.pending),
        (1, 1, 1)
    );
    let results = results(&review);
    assert_eq!(results[1], "The company was on the back foot.");
    assert_eq!(results[2], "The team delivers - on time .");
    // Pending keeps the correction.
    assert_eq!(results[3], "Revenue rose to $4 trillion, he said “today”.");
    assert_eq!(
        review.docs[0].text(),
        "# Report\n\nThe company was on the back foot.\n\nThe team delivers - on time .\n\n\
         Revenue rose to $4 trillion, he said “today”.\n"
    );
}

#[test]
fn enter_and_y_accept_too() {
    let mut review = review();
    press(&mut review, "<Enter>y");
    assert_eq!(review.counts().accepted, 2);
}

#[test]
fn per_change_decisions_mix_within_a_paragraph() {
    let mut review = review();
    press(&mut review, "}m");
    assert_eq!(review.mode, Mode::Change);
    let item = review.item().expect("on s2");
    assert_eq!(
        item.pair.change_count(),
        2,
        "the dash and the space before the stop"
    );
    press(&mut review, "ra");
    let results = results(&review);
    assert_eq!(results[2], "The team delivers - on time.");
    assert_eq!(review.counts().mixed, 1);
    // Deciding the paragraph's last change moved on to the next pending paragraph.
    assert_eq!(review.current().map(|c| c.2), Some(3));
}

#[test]
fn uppercase_decides_the_rest_of_the_paragraph() {
    let mut review = review();
    press(&mut review, "}}m");
    let changes = review.item().expect("s3").pair.change_count();
    assert!(changes > 2, "{changes}");
    press(&mut review, "aR");
    let item = &review.docs[0].items[3];
    assert_eq!(item.choice(0), Choice::Accept);
    assert!((1..changes).all(|k| item.choice(k) == Choice::Reject));
}

#[test]
fn undo_and_redo_restore_verdicts_and_position() {
    let mut review = review();
    press(&mut review, "ar");
    assert_eq!(review.counts().rejected, 1);
    let effects = press(&mut review, "z");
    assert_eq!(effects, [Effect::Save(vec![0])]);
    assert_eq!(review.counts().rejected, 0);
    assert_eq!(
        review.current().map(|c| c.2),
        Some(2),
        "back on the undone paragraph"
    );
    press(&mut review, "<C-r>");
    assert_eq!(review.counts().rejected, 1);
    press(&mut review, "zz");
    assert_eq!(review.counts().pending, 3);
    press(&mut review, "z");
    assert_eq!(review.message.as_deref(), Some("nothing to undo"));
}

#[test]
fn bulk_accepts_punctuation_changes_everywhere() {
    let mut review = review();
    let effects = press(&mut review, "b1");
    assert_eq!(effects[1], Effect::Save(vec![0]));
    let message = review.message.clone().unwrap_or_default();
    assert!(message.starts_with("accepted "), "{message}");
    // s2: the dash is punctuation, the space before the stop whitespace.
    assert_eq!(
        review.docs[0].items[2].verdict,
        Verdict::Changes {
            changes: vec![Choice::Accept, Choice::Pending]
        }
    );
    press(&mut review, "b2");
    assert_eq!(review.docs[0].items[2].verdict, Verdict::Accept);
    // s1 (a word change) is untouched.
    assert_eq!(review.docs[0].items[1].verdict, Verdict::Pending);
    press(&mut review, "b5");
    assert_eq!(review.counts().pending, 0);
    assert!(review.summary);
}

#[test]
fn edits_come_back_from_the_editor() {
    let mut review = review();
    let effects = press(&mut review, "e");
    let [Effect::Edit { doc, item, text }] = effects.as_slice() else {
        panic!("{effects:?}");
    };
    assert_eq!(text, "The company was on the back foot.");
    let effect = review.edited(*doc, *item, Ok("The firm was under pressure.\n".into()));
    assert_eq!(effect, Effect::Save(vec![0]));
    assert_eq!(results(&review)[1], "The firm was under pressure.");
    assert_eq!(review.counts().edited, 1);
    // An edit back to the draft is a rejection; an empty one is ignored.
    review.edited(0, 2, Ok("The team delivers - on time .\n".into()));
    assert_eq!(review.docs[0].items[2].verdict, Verdict::Reject);
    assert_eq!(review.edited(0, 3, Ok("  \n".into())), Effect::None);
    assert_eq!(review.docs[0].items[3].verdict, Verdict::Pending);
    assert_eq!(review.edited(0, 3, Err("vi failed".into())), Effect::None);
    assert_eq!(review.message.as_deref(), Some("vi failed"));
}

#[test]
fn quitting_asks_while_something_is_pending_or_unwritten() {
    let mut review = review();
    assert_eq!(press(&mut review, "q"), [Effect::None]);
    assert_eq!(review.overlay, Some(state::Overlay::Quit));
    assert_eq!(press(&mut review, "<Esc>"), [Effect::None]);
    assert_eq!(review.overlay, None);
    assert_eq!(
        press(&mut review, "qw"),
        [Effect::None, Effect::Write { then_quit: true }]
    );
    assert_eq!(press(&mut review, "Q"), [Effect::Abort]);
    assert_eq!(press(&mut review, "<C-c>"), [Effect::Abort]);
    // Everything accepted and the outputs already hold it: q quits at once.
    press(&mut review, "b4");
    assert!(review.unwritten().is_empty());
    assert_eq!(press(&mut review, "q"), [Effect::Quit]);
}

#[test]
fn writing_is_asked_for_and_reported() {
    let mut review = review();
    press(&mut review, "r");
    assert_eq!(review.unwritten(), [0]);
    assert_eq!(
        press(&mut review, "w"),
        [Effect::Write { then_quit: false }]
    );
    review.docs[0].on_disk = review.docs[0].text();
    review.written(Ok(1));
    assert_eq!(review.message.as_deref(), Some("wrote 1 file"));
    assert!(review.unwritten().is_empty());
}

#[test]
fn navigation_search_and_pending_jumps() {
    let mut review = review();
    press(&mut review, "/trillion<Enter>");
    assert_eq!(review.current().map(|c| c.2), Some(3));
    press(&mut review, "/TEAM<Enter>");
    assert_eq!(review.current().map(|c| c.2), Some(2));
    press(&mut review, "/nowhere<Enter>");
    assert!(
        review
            .message
            .clone()
            .unwrap_or_default()
            .contains("nowhere")
    );
    press(&mut review, "{{");
    assert_eq!(review.current().map(|c| c.2), Some(1));
    assert_eq!(
        review.message.as_deref(),
        Some("this is the first paragraph")
    );
    press(&mut review, "a<Tab>");
    assert_eq!(review.current().map(|c| c.2), Some(3));
    press(&mut review, "<S-Tab>");
    assert_eq!(review.current().map(|c| c.2), Some(2));
    // ] walks changes and crosses into the next paragraph.
    press(&mut review, "]]");
    assert_eq!((review.current().map(|c| c.2), review.change), (Some(3), 0));
}

#[test]
fn saved_decisions_are_restored_and_resume_at_the_first_pending() {
    let mut first = review();
    press(&mut first, "ar");
    let saved = first.docs[0].decisions();
    assert_eq!(saved.paragraphs.len(), 2);
    let record = record();
    let on_disk = record.as_written();
    let doc = Doc::new(
        "report.en.md".into(),
        record.clone(),
        &saved,
        on_disk.clone(),
    );
    let again = Review::new(vec![doc], (80, 24), screen::extent);
    assert_eq!(again.counts().accepted, 1);
    assert_eq!(again.counts().rejected, 1);
    assert_eq!(again.current().map(|c| c.2), Some(3));
    // Re-translated paragraphs lose their decisions; the others keep them.
    let mut retranslated = record;
    retranslated.paragraphs[2].new = "The team delivers, on time.".into();
    let doc = Doc::new("report.en.md".into(), retranslated, &saved, on_disk);
    let counts = Review::new(vec![doc], (80, 24), screen::extent).counts();
    assert_eq!(
        (counts.accepted, counts.rejected, counts.pending),
        (1, 0, 2)
    );
}

#[test]
fn several_files_are_one_review() {
    let mut second = record();
    second.output = "other.en.md".into();
    let mut review = review_of(vec![record(), second], (80, 24));
    assert_eq!(review.len(), 6);
    press(&mut review, "aaa");
    assert_eq!(review.current().map(|c| c.1), Some(1));
    assert_eq!(review.position_in_doc(), Some((1, 3)));
    let effects = press(&mut review, "b5");
    assert_eq!(effects[1], Effect::Save(vec![1]));
}

/// Four outputs, given in name order: one with a warning (`record()`), one with an error, one
/// with changes alone and one with nothing to decide.
fn run_of_four() -> Vec<Record> {
    let warned = record();
    let mut errored = record();
    errored.output = "b.en.md".into();
    errored.paragraphs[1].findings.push(record::FindingNote {
        severity: Severity::Error,
        message: "the number 4 is missing from the English".into(),
        check: Some("quantity".into()),
    });
    let mut changed = record();
    changed.output = "c.en.md".into();
    changed.paragraphs[3].findings.clear();
    changed.paragraphs[3].notes.clear();
    let mut clean = changed.clone();
    clean.output = "d.en.md".into();
    for paragraph in &mut clean.paragraphs {
        paragraph.old = Some(paragraph.new.clone());
    }
    let mut records = vec![warned, errored, changed, clean];
    records[0].output = "a.en.md".into();
    records
}

#[test]
fn files_with_errors_come_first_then_warnings_then_changes() {
    let review = review_of(run_of_four(), (80, 24));
    assert_eq!(review.files(), [1, 0, 2, 3]);
    assert_eq!(
        review.docs[1].attention(),
        Attention {
            errors: 1,
            warnings: 1,
            changed: 3
        }
    );
    assert_eq!(review.docs[3].attention().urgency(), Urgency::Nothing);
    // The review starts in the file with the error and goes file by file.
    assert_eq!(review.current(), Some((0, 1, 1)));
    assert_eq!(review.len(), 9, "three paragraphs in each of three files");
    assert_eq!(
        review.message.as_deref(),
        Some("4 files, those that need attention first · f lists them")
    );
}

#[test]
fn deciding_a_file_moves_on_to_the_next_and_says_so() {
    let mut review = review_of(run_of_four(), (80, 24));
    assert_eq!(review.file_label(1), "b.en.md · file 1/4 · 0/3 decided");
    press(&mut review, "a");
    assert_eq!(review.file_label(1), "b.en.md · file 1/4 · 1/3 decided");
    press(&mut review, "ar");
    assert_eq!(review.current().map(|c| c.1), Some(0));
    assert_eq!(
        review.message.as_deref(),
        Some("next file: a.en.md · file 2/4 · 0/3 decided")
    );
    let shown = screen(&review, (80, 24), false);
    assert!(
        shown.contains("klartext review · a.en.md · file 2/4 · 0/3 decided"),
        "{shown}"
    );
}

#[test]
fn the_file_list_jumps_to_a_file() {
    let mut review = review_of(run_of_four(), (80, 24));
    press(&mut review, "a");
    press(&mut review, "f");
    assert_eq!(review.overlay, Some(state::Overlay::Files { selected: 0 }));
    press(&mut review, "jj");
    assert_eq!(review.overlay, Some(state::Overlay::Files { selected: 2 }));
    insta::assert_snapshot!("file_list_80x24", screen(&review, (80, 24), false));
    press(&mut review, "<Enter>");
    assert_eq!(review.overlay, None);
    assert_eq!(review.current(), Some((6, 2, 1)));
    assert_eq!(
        review.message.as_deref(),
        Some("c.en.md · file 3/4 · 0/3 decided")
    );
    // Back to the first file: its first pending paragraph, not the one decided.
    press(&mut review, "fgk<Enter>");
    assert_eq!(review.current(), Some((1, 1, 2)));
    // A file with nothing to decide is listed, but there is nothing to open.
    press(&mut review, "fG<Enter>");
    assert_eq!(review.current(), Some((1, 1, 2)));
    assert_eq!(
        review.message.as_deref(),
        Some("d.en.md: nothing to review")
    );
    // Esc closes the list where it was; the list also opens on the closing screen.
    press(&mut review, "fj<Esc>");
    assert_eq!(
        (review.overlay.clone(), review.current()),
        (None, Some((1, 1, 2)))
    );
    press(&mut review, "b4");
    assert!(review.summary);
    press(&mut review, "f");
    assert_eq!(review.overlay, Some(state::Overlay::Files { selected: 0 }));
}

fn screen(review: &Review, (columns, rows): (u16, u16), color: bool) -> String {
    let mut terminal = Terminal::new(TestBackend::new(columns, rows)).expect("test terminal");
    terminal
        .draw(|frame| draw(frame, review, Theme { color }))
        .expect("draws");
    terminal.backend().to_string()
}

#[test]
fn screens_at_80_by_24() {
    let mut review = review();
    insta::assert_snapshot!("side_by_side_80x24", screen(&review, (80, 24), true));
    press(&mut review, "}}m");
    insta::assert_snapshot!("per_change_80x24", screen(&review, (80, 24), false));
    press(&mut review, "t");
    insta::assert_snapshot!("stacked_80x24", screen(&review, (80, 24), true));
    press(&mut review, "t");
    insta::assert_snapshot!("inline_80x24", screen(&review, (80, 24), true));
    press(&mut review, "?");
    insta::assert_snapshot!("help_80x24", screen(&review, (80, 24), true));
    press(&mut review, " b");
    insta::assert_snapshot!("bulk_80x24", screen(&review, (80, 24), true));
    press(&mut review, "4");
    insta::assert_snapshot!("summary_80x24", screen(&review, (80, 24), true));
}

/// A record as `fix` writes it now: the model's notes kept as given and, judged by verify,
/// among the findings: the doubt a warning, the routine note an aside.
fn record_with_model_notes() -> Record {
    let mut record = record();
    let second = &mut record.paragraphs[1];
    second.notes = vec![
        "'am hinteren Fuß' = 'on the back foot' (idiom)".into(),
        "The subject of the sentence seems garbled; 'the company' is a guess".into(),
    ];
    second.findings = crate::verify::model_notes(second.id, &second.notes)
        .iter()
        .map(record::FindingNote::from)
        .collect();
    record
}

#[test]
fn model_doubts_are_marked_on_the_screen() {
    let review = review_of(vec![record_with_model_notes()], (80, 24));
    let shown = screen(&review, (80, 24), true);
    assert!(
        shown.contains("¶ 2 · 1 change · 86% similar · ⚠1 ℹ1"),
        "{shown}"
    );
    assert!(
        shown.contains("⚠ model doubt: The subject of the sentence"),
        "{shown}"
    );
    assert!(shown.contains("ℹ model: 'am hinteren Fuß'"), "{shown}");
    insta::assert_snapshot!("model_doubt_80x24", shown);
}

/// An unchanged paragraph the model doubted is still put in front of the reviewer; one with
/// only a routine note is not.
#[test]
fn an_unchanged_paragraph_with_a_doubt_is_reviewed() {
    let mut record = record_with_model_notes();
    let second = &mut record.paragraphs[1];
    second.old = Some(second.new.clone());
    let review = review_of(vec![record.clone()], (80, 24));
    assert!(review.docs[0].items[1].pair.change_count() == 0);
    assert!(review.docs[0].items[1].reviewable(), "the doubt is shown");
    let second = &mut record.paragraphs[1];
    second.notes.truncate(1);
    second.findings = crate::verify::model_notes(second.id, &second.notes)
        .iter()
        .map(record::FindingNote::from)
        .collect();
    let review = review_of(vec![record], (80, 24));
    assert!(
        !review.docs[0].items[1].reviewable(),
        "a routine note is no reason"
    );
}

#[test]
fn notes_of_an_older_record_are_judged_when_shown() {
    let mut record = record_with_model_notes();
    record.paragraphs[1].findings.clear();
    let review = review_of(vec![record], (80, 24));
    let shown = screen(&review, (80, 24), true);
    assert!(
        shown.contains("⚠ model doubt: The subject of the sentence"),
        "{shown}"
    );
    assert!(shown.contains("ℹ model: 'am hinteren Fuß'"), "{shown}");
}

#[test]
fn screens_at_200_by_50_with_the_german_and_after_a_resize() {
    let mut review = review_of(vec![record()], (200, 50));
    press(&mut review, "}}i");
    insta::assert_snapshot!("three_panes_200x50", screen(&review, (200, 50), true));
    review.resize(60, 20);
    insta::assert_snapshot!("resized_60x20", screen(&review, (60, 20), true));
    press(&mut review, "q");
    insta::assert_snapshot!("quit_60x20", screen(&review, (60, 20), true));
}

/// The German pane shows the German the model saw: repaired, what the repairs wrote
/// underlined (and nothing else underlined without bold, in monochrome).
#[test]
fn the_german_is_shown_as_it_was_sent_with_the_repairs_marked() {
    let mut record = record();
    let german = "Die Firma sagte:”Wir sind am hinteren Fuß.”Dann ging sie.";
    let repaired = crate::repair::repair_document(german, crate::segment::Format::Plain);
    let second = &mut record.paragraphs[1];
    second.german = german.into();
    second.repaired = Some(repaired.segments[0].text.clone());
    second.repairs = repaired.marks().remove(0);
    assert_eq!(
        second.sent(),
        "Die Firma sagte: „Wir sind am hinteren Fuß.“ Dann ging sie."
    );
    for (size, keys) in [((80, 24), "i"), ((200, 50), "i")] {
        let mut review = review_of(vec![record.clone()], size);
        press(&mut review, keys);
        let shown = screen(&review, size, false);
        assert!(shown.contains("Die Firma sagte: „Wir sind am"), "{shown}");
        assert!(!shown.contains("sagte:”"), "{shown}");
        let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("terminal");
        terminal
            .draw(|frame| draw(frame, &review, Theme { color: false }))
            .expect("draws");
        let underlined: String = terminal
            .backend()
            .buffer()
            .content()
            .iter()
            .filter(|cell| {
                cell.modifier.contains(ratatui::style::Modifier::UNDERLINED)
                    && !cell.modifier.contains(ratatui::style::Modifier::BOLD)
            })
            .map(|cell| cell.symbol())
            .collect();
        assert_eq!(underlined, " „“ ", "{size:?}");
    }
    // The search finds the German as sent, too.
    let mut review = review_of(vec![record], (80, 24));
    press(&mut review, "}/„wir<Enter>");
    assert_eq!(review.current().map(|c| c.2), Some(1));
}

/// Side by side, a sentence sits beside its counterpart however differently the panes wrap:
/// the draft's long first sentence and short second one against the reverse.
#[test]
fn side_by_side_rows_hold_the_same_sentence() {
    let mut record = record();
    record.paragraphs[1] = paragraph(
        "s1",
        "Die Firma, 1998 von zwei Ingenieuren in einer Garage in Stuttgart gegründet, meldete \
         Rekordumsätze. Es war gut. Die Aktie stieg um 4 Prozent.",
        "The company, founded in 1998 by two engineers in a garage in Stuttgart, reported \
         record sales. It was good. Shares rose by 4 percent.",
        "The company reported record sales. The year was an excellent one for everybody \
         involved, from suppliers to staff. Shares rose by 4 percent.",
    );
    for (size, keys, panes) in [((80, 24), "", 2), ((200, 50), "i", 3)] {
        let mut review = review_of(vec![record.clone()], size);
        press(&mut review, keys);
        let shown = screen(&review, size, true);
        let row = |needle: &str| shown.lines().position(|line| line.contains(needle));
        assert_eq!(row("It was good"), row("The year was"), "{shown}");
        let shares = shown.lines().find(|line| line.contains("Shares rose"));
        assert_eq!(
            shares.map(|l| l.matches("Shares rose").count()),
            Some(2),
            "{shown}"
        );
        if panes == 3 {
            assert_eq!(row("Es war gut"), row("It was good"), "{shown}");
        }
    }
}

#[test]
fn every_row_fits_the_width() {
    for (columns, rows) in [(40, 12), (80, 24), (120, 30), (200, 50)] {
        let mut review = review_of(vec![record()], (columns, rows));
        for script in ["", "i", "t", "t", "m]", "?"] {
            press(&mut review, script);
            let shown = screen(&review, (columns, rows), true);
            // TestBackend pads every row to the width; a wider row would have been cut, so
            // check the source rows instead: nothing the body lays out is wider.
            assert_eq!(shown.lines().count(), rows as usize);
            let width = columns as usize;
            for line in shown.lines() {
                let inner = line.trim_start_matches('"').trim_end_matches('"');
                assert!(crate::render::display_width(inner) <= width, "{line}");
            }
            press(&mut review, "<Esc>");
        }
    }
}

#[test]
fn scrolling_stops_at_the_end_of_the_body() {
    let mut review = review_of(vec![record()], (40, 12));
    press(&mut review, "}}iG");
    let end = review.scroll;
    assert!(end > 0, "the body is taller than 12 rows at 40 columns");
    press(&mut review, "<Down>j");
    assert_eq!(review.scroll, end);
    press(&mut review, "g");
    assert_eq!(review.scroll, 0);
}

/// The body cells drawn with `modifier`, as text.
fn cells_with(
    review: &Review,
    size: (u16, u16),
    color: bool,
    modifier: ratatui::style::Modifier,
) -> String {
    let mut terminal = Terminal::new(TestBackend::new(size.0, size.1)).expect("test terminal");
    terminal
        .draw(|frame| draw(frame, review, Theme { color }))
        .expect("draws");
    let buffer = terminal.backend().buffer().clone();
    // Rows 2.. are the body; the bars are reversed as a whole.
    let mut text = String::new();
    for y in 2..size.1.saturating_sub(1) {
        for x in 0..size.0 {
            let cell = &buffer[(x, y)];
            if cell.modifier.contains(modifier) {
                text.push_str(cell.symbol());
            }
        }
    }
    text
}

#[test]
fn the_change_in_focus_is_reversed_in_change_mode_only() {
    let mut review = review();
    let reversed = ratatui::style::Modifier::REVERSED;
    assert_eq!(cells_with(&review, (80, 24), true, reversed), "");
    press(&mut review, "m");
    assert_eq!(cells_with(&review, (80, 24), true, reversed), "rearback");
    press(&mut review, "}");
    assert_eq!(cells_with(&review, (80, 24), false, reversed), "-–");
    press(&mut review, "]");
    assert_eq!(cells_with(&review, (80, 24), false, reversed), "·");
}

#[test]
fn without_colour_changes_are_drawn_with_attributes_alone() {
    let review = review();
    let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("test terminal");
    terminal
        .draw(|frame| draw(frame, &review, Theme { color: false }))
        .expect("draws");
    let buffer = terminal.backend().buffer();
    assert!(
        buffer
            .content()
            .iter()
            .all(|cell| cell.fg == ratatui::style::Color::Reset)
    );
    let struck = cells_with(
        &review,
        (80, 24),
        false,
        ratatui::style::Modifier::CROSSED_OUT,
    );
    assert_eq!(struck, "rear");
    let bold = cells_with(
        &review,
        (80, 24),
        false,
        ratatui::style::Modifier::UNDERLINED,
    );
    assert!(bold.contains("back"), "{bold}");
}

mod random_sessions {
    //! Random key sequences over two documents: whatever is pressed, the position and the
    //! focused change stay in bounds, scrolling stays within the body, the tallies add up,
    //! undoing every step restores the verdicts the session started with, and undo and redo
    //! undo each other.

    use proptest::prelude::*;

    use super::*;
    use crate::review::Extent;

    /// Every key the review binds (`f` the file list), and a few it does not.
    const KEYS: &str = "aryrsARSbmz][}{jkgGnNt|ipw?q/x12345f";

    fn key() -> impl Strategy<Value = KeyEvent> {
        let chars: Vec<char> = KEYS.chars().collect();
        prop_oneof![
            8 => prop::sample::select(chars)
                .prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::NONE)),
            1 => prop::sample::select(vec![
                KeyCode::Enter,
                KeyCode::Tab,
                KeyCode::BackTab,
                KeyCode::Esc,
                KeyCode::Backspace,
                KeyCode::PageDown,
                KeyCode::PageUp,
            ])
            .prop_map(|code| KeyEvent::new(code, KeyModifiers::NONE)),
            1 => prop::sample::select(vec!['r', 'd', 'u'])
                .prop_map(|c| KeyEvent::new(KeyCode::Char(c), KeyModifiers::CONTROL)),
        ]
    }

    fn verdicts(review: &Review) -> Vec<Vec<Verdict>> {
        review
            .docs
            .iter()
            .map(|d| d.items.iter().map(|i| i.verdict.clone()).collect())
            .collect()
    }

    fn check_bounds(review: &Review) -> Result<(), TestCaseError> {
        let counts = review.counts();
        prop_assert_eq!(counts.total, review.len());
        prop_assert_eq!(
            counts.accepted + counts.rejected + counts.edited + counts.mixed + counts.pending,
            counts.total
        );
        let Some((pos, d, i)) = review.current() else {
            return Err(TestCaseError::fail("the review has paragraphs"));
        };
        prop_assert!(pos < review.len());
        prop_assert!(review.docs[d].items[i].reviewable());
        let changes = review.docs[d].items[i].pair.change_count();
        prop_assert!(
            review.change < changes.max(1),
            "change {} of {}",
            review.change,
            changes
        );
        let Extent { visible, total } = screen::extent(review);
        prop_assert!(review.scroll <= total.saturating_sub(visible));
        Ok(())
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(48))]
        #[test]
        fn any_key_sequence_keeps_the_review_consistent(
            keys in prop::collection::vec(key(), 0..60),
            size in (20u16..220, 6u16..60),
        ) {
            let mut review = review_of(vec![record(), record()], size);
            let start = verdicts(&review);
            for key in keys {
                let effect = keys::press(&mut review, key);
                if let Effect::Save(docs) = &effect {
                    prop_assert!(docs.iter().all(|&d| d < review.docs.len()));
                }
                check_bounds(&review)?;
            }
            // Back out of any overlay and the closing screen, then undo everything.
            review.overlay = None;
            let undo = KeyEvent::new(KeyCode::Char('z'), KeyModifiers::NONE);
            let redo = KeyEvent::new(KeyCode::Char('r'), KeyModifiers::CONTROL);
            // Until the history runs out (each step is one action; the sequence is shorter).
            let all = |review: &mut Review, key: KeyEvent| -> Result<(), TestCaseError> {
                for _ in 0..=60 {
                    review.summary = false;
                    keys::press(review, key);
                    if review.message.as_deref().is_some_and(|m| m.starts_with("nothing")) {
                        break;
                    }
                }
                review.summary = false;
                check_bounds(review)
            };
            all(&mut review, undo)?;
            prop_assert_eq!(verdicts(&review), start.clone());
            all(&mut review, redo)?;
            let redone = verdicts(&review);
            all(&mut review, undo)?;
            prop_assert_eq!(verdicts(&review), start);
            all(&mut review, redo)?;
            prop_assert_eq!(verdicts(&review), redone);
        }
    }
}

#[test]
fn outcomes_name_what_each_verdict_made_of_a_paragraph() {
    let record = record();
    let mut saved = Decisions::new("report.en.md");
    for (id, verdict) in [
        ("s1", Verdict::Reject),
        (
            "s2",
            Verdict::Edit {
                text: "Mine.".into(),
            },
        ),
        ("s3", Verdict::Accept),
    ] {
        saved.paragraphs.push(Saved {
            id: id.parse().expect("an id"),
            key: None,
            verdict,
        });
    }
    let doc = Doc::new(String::new(), record, &saved, String::new());
    let made: Vec<(&str, String)> = doc
        .items
        .iter()
        .map(|i| (i.outcome().as_str(), i.result().into_owned()))
        .collect();
    assert_eq!(
        made,
        [
            ("undecided", "Report".to_owned()),
            ("rejected", "The company was on the rear foot.".to_owned()),
            ("edited", "Mine.".to_owned()),
            (
                "accepted",
                "Revenue rose to $4 trillion, he said “today”.".to_owned()
            ),
        ]
    );
    let mut mixed = doc.items[2].clone();
    mixed.verdict = Verdict::Changes {
        changes: vec![Choice::Pending; mixed.pair.change_count()],
    };
    assert_eq!(mixed.outcome(), Outcome::Undecided);
    if let Verdict::Changes { changes } = &mut mixed.verdict
        && let Some(first) = changes.first_mut()
    {
        *first = Choice::Reject;
    }
    assert_eq!(mixed.outcome(), Outcome::Mixed);
}
