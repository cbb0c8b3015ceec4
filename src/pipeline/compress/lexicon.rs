//! The words compression reads a sentence by: connectives, openers of clauses, asides
//! and scenes, number words, and the tests on single words (a clause mark, a dash, a
//! participle, an auxiliary, a list number, a verb) that tell the units of a sentence apart.

/// Connectives that open a sentence without adding to its fact.
pub(super) const CONNECTIVES: &[&str] = &[
    "However,",
    "Moreover,",
    "Furthermore,",
    "In addition,",
    "Additionally,",
    "Meanwhile,",
    "Still,",
    "Also,",
    "Indeed,",
    "In fact,",
    "Likewise,",
    "Similarly,",
    "To that end,",
    "As a result,",
    "Overall,",
    "Nevertheless,",
    "Nonetheless,",
    "Instead,",
    "Thus,",
    "Therefore,",
    "Consequently,",
    "In particular,",
    "Specifically,",
    "Notably,",
    "Importantly,",
    "At the same time,",
    "In other words,",
    "Of course,",
];

/// Words a kept clause run should not open with.
pub(super) const LEADING: &[&str] = &["and", "but", "or", "so", "yet", "then"];

/// Words that open a clause with its subject: a run of clauses from mid-sentence must
/// start with one of these (or a name or number), so that it reads as a sentence.
pub(super) const SUBJECT_OPENERS: &[&str] = &[
    "the", "a", "an", "this", "that", "these", "those", "it", "its", "they", "their", "he", "his", "she", "her", "we",
    "our", "i", "there", "each", "every", "some", "many", "most", "all",
];

/// Prepositions that open a scene-setting clause.
pub(super) const PREPOSITIONS: &[&str] = &[
    "at",
    "in",
    "on",
    "from",
    "during",
    "after",
    "before",
    "under",
    "with",
    "for",
    "by",
    "since",
    "until",
    "through",
    "across",
    "among",
    "following",
    "despite",
    "unlike",
    "like",
    "as",
    "while",
    "when",
    "although",
    "though",
    "because",
    "if",
    "originally",
];

/// Words that open an aside which can be deleted between commas or dashes.
pub(super) const ASIDE_OPENERS: &[&str] = &[
    "which",
    "who",
    "whom",
    "whose",
    "where",
    "including",
    "such",
    "especially",
    "particularly",
    "according",
    "said",
    "says",
    "named",
    "called",
    "known",
    "as",
    "like",
    "e.g.",
    "i.e.",
];

/// Words that open a clause which does not go on with the main clause's verb.
pub(super) const NOT_A_VERB: &[&str] = &[
    "more",
    "less",
    "about",
    "roughly",
    "nearly",
    "almost",
    "up",
    "over",
    "under",
    "around",
    "some",
    "not",
    "only",
    "just",
    "including",
    "with",
    "from",
    "to",
    "in",
    "on",
    "at",
    "for",
    "of",
];

/// Number words, worth as much as digits.
pub(super) const NUMBER_WORDS: &[&str] = &[
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "twenty",
    "thirty",
    "forty",
    "fifty",
    "hundred",
    "hundreds",
    "thousand",
    "thousands",
    "million",
    "millions",
    "billion",
    "billions",
    "half",
    "double",
    "twice",
    "percent",
];

/// Whether a word ends a clause: `,` `;` `:` or a dash.
pub(super) fn ends_clause(w: &str) -> bool {
    w.ends_with([',', ';', ':']) || ends_dash(w)
}

pub(super) fn is_dash(w: &str) -> bool {
    matches!(w, "—" | "–" | "-" | "--")
}

pub(super) fn ends_dash(w: &str) -> bool {
    is_dash(w) || w.ends_with(['—', '–'])
}

/// Whether a sentence may have a verb: an auxiliary, or a lower-case word with a verb's
/// ending (-ed, -ing, -s). Lenient (a plural passes), so that only lines of names and
/// nouns fail.
pub(crate) fn has_verb(l: &str) -> bool {
    const AUX: &[&str] = &[
        "is", "are", "was", "were", "be", "been", "being", "has", "have", "had", "do", "does", "did", "will", "would",
        "can", "could", "may", "might", "must", "shall", "should", "said", "says", "say", "get", "got", "make", "made",
        "take", "took", "give", "gave", "go", "went", "come", "came", "run", "ran", "find", "found", "put", "let",
        "set", "keep", "kept", "hold", "held", "lead", "led", "show", "shown", "begin", "began", "leave", "left",
    ];
    l.split_whitespace().any(|w| {
        let w = w.trim_matches(|c: char| !c.is_alphanumeric() && c != '\'' && c != '’');
        let lower = w.chars().next().is_some_and(char::is_lowercase);
        let n = w.chars().count();
        lower
            && (AUX.contains(&w)
                || w.ends_with("n't")
                || (n >= 4 && (w.ends_with("ed") || w.ends_with("ing")))
                || (n >= 3 && w.ends_with('s') && !w.ends_with("ss")))
    })
}

/// An auxiliary or copula ("is", "were", "has", "will"): the sure sign of a finite verb.
pub(super) fn is_auxiliary(w: &str) -> bool {
    const AUX: &[&str] =
        &["is", "are", "was", "were", "has", "have", "had", "will", "would", "can", "could", "may", "might", "must"];
    AUX.contains(&lower(w).as_str())
}

/// "and,", "or,", "but,": a conjunction that an aside interrupts ("used in Canada and,
/// with various permutations, in many other countries").
pub(super) fn open_conjunction(w: &str) -> bool {
    matches!(lower(w).as_str(), "and" | "or" | "but") && w.ends_with(',')
}

/// "(1)", "(b)", "(iv)": a bracketed list number.
pub(super) fn is_enumerator(w: &str) -> bool {
    let inner = w.trim_end_matches([',', ';', ':', '.']).strip_prefix('(').and_then(|r| r.strip_suffix(')'));
    inner.is_some_and(|m| (1..=4).contains(&m.len()) && m.chars().all(|c| c.is_ascii_digit() || c.is_ascii_lowercase()))
}

pub(super) fn lower(w: &str) -> String {
    w.trim_matches(|c: char| !c.is_alphanumeric() && c != '.').to_lowercase()
}

/// A participle that opens an aside: "measured", "holding" (a lower-case word of five
/// letters or more ending in -ed or -ing).
pub(super) fn participle(w: &str) -> bool {
    let w = w.trim_matches(|c: char| !c.is_alphanumeric());
    w.chars().next().is_some_and(char::is_lowercase) && w.len() >= 5 && (w.ends_with("ed") || w.ends_with("ing"))
}

/// Whether a clause can open a sentence: with its subject, a name or a number.
pub(super) fn opens_with_subject(w: &str) -> bool {
    SUBJECT_OPENERS.contains(&lower(w).as_str())
        || w.chars().next().is_some_and(|c| c.is_uppercase() || c.is_ascii_digit() || c == '“' || c == '"')
}
