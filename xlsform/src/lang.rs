//! Languages in column headers: `label::English (en)` names English by its
//! code, which is what hark keys text by. A few common names written
//! without a code are read with a warning; any other name is refused, since
//! guessing a code would file the text under the wrong language.

/// Names and codes of languages commonly written without a code.
const NAMES: &[(&str, &str)] = &[
    ("english", "en"),
    ("welsh", "cy"),
    ("cymraeg", "cy"),
    ("polish", "pl"),
    ("urdu", "ur"),
    ("bengali", "bn"),
    ("punjabi", "pa"),
    ("gujarati", "gu"),
    ("arabic", "ar"),
    ("somali", "so"),
    ("romanian", "ro"),
    ("lithuanian", "lt"),
    ("portuguese", "pt"),
    ("spanish", "es"),
    ("french", "fr"),
    ("turkish", "tr"),
    ("ukrainian", "uk"),
    ("pashto", "ps"),
    ("dari", "prs"),
    ("tigrinya", "ti"),
    ("kurdish", "ku"),
    ("chinese", "zh"),
];

/// How a header's language part reads.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum LangName {
    /// A code, written as `Name (code)` or as the code alone.
    Code(String),
    /// A known name without a code.
    Guessed(&'static str),
    /// A name without a code that hark does not know.
    Unknown,
}

fn looks_like_code(s: &str) -> bool {
    let mut parts = s.split('-');
    let first = parts.next().unwrap_or_default();
    (2..=3).contains(&first.len())
        && first.bytes().all(|b| b.is_ascii_lowercase())
        && parts
            .all(|p| !p.is_empty() && p.len() <= 8 && p.bytes().all(|b| b.is_ascii_alphanumeric()))
}

/// Reads `English (en)`, `en` or `English`.
pub fn read(spec: &str) -> LangName {
    let spec = spec.trim();
    if let Some(open) = spec.rfind('(')
        && spec.ends_with(')')
    {
        let code = spec[open + 1..spec.len() - 1].trim();
        if looks_like_code(code) || looks_like_code(&code.to_ascii_lowercase()) {
            return LangName::Code(code.to_owned());
        }
        return LangName::Unknown;
    }
    if looks_like_code(spec) {
        return LangName::Code(spec.to_owned());
    }
    let lower = spec.to_lowercase();
    NAMES
        .iter()
        .find(|(name, _)| *name == lower)
        .map_or(LangName::Unknown, |(_, code)| LangName::Guessed(code))
}

/// How the export names a language: `English (en)`, or `xx (xx)` for a
/// code without a name here.
pub fn label(code: &str) -> String {
    let name = NAMES.iter().find(|(_, c)| *c == code).map(|(n, _)| {
        let mut chars = n.chars();
        chars
            .next()
            .map(|f| f.to_uppercase().chain(chars).collect::<String>())
            .unwrap_or_default()
    });
    format!("{} ({code})", name.unwrap_or_else(|| code.to_owned()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_names_and_codes() {
        assert_eq!(read("English (en)"), LangName::Code("en".into()));
        assert_eq!(read("Cymraeg(cy)"), LangName::Code("cy".into()));
        assert_eq!(read("pt-BR"), LangName::Code("pt-BR".into()));
        assert_eq!(read("French"), LangName::Guessed("fr"));
        assert_eq!(read("Klingon"), LangName::Unknown);
        assert_eq!(read("Klingon (Klingon)"), LangName::Unknown);
        assert_eq!(label("cy"), "Welsh (cy)");
        assert_eq!(label("xx"), "xx (xx)");
        assert_eq!(read(&label("en")), LangName::Code("en".into()));
    }
}
