//! Text normalization shared by ids, matching and search: lowercase, diacritics stripped,
//! punctuation folded to single spaces.

use unicode_normalization::UnicodeNormalization;
use unicode_normalization::char::is_combining_mark;

/// Articles ignored at the start of artist names when comparing and indexing (Navidrome's
/// default `IgnoredArticles`).
pub(crate) const IGNORED_ARTICLES: &str = "The El La Los Las Le Les Os As O A";

/// `"Café  Lumière!"` → `"cafe lumiere"`: NFD, combining marks dropped, lowercase, every
/// run of non-alphanumeric characters becomes one space, trimmed.
pub(crate) fn normalize(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    let mut pending_space = false;
    for c in s.nfd().filter(|c| !is_combining_mark(*c)) {
        if c.is_alphanumeric() {
            if pending_space && !out.is_empty() {
                out.push(' ');
            }
            pending_space = false;
            out.extend(c.to_lowercase());
        } else {
            pending_space = true;
        }
    }
    out
}

/// [`normalize`] without a leading article: `"The Midnight Owls"` → `"midnight owls"`.
pub(crate) fn normalize_artist(s: &str) -> String {
    let n = normalize(s);
    strip_article(&n).to_owned()
}

/// Drops one leading article (already normalized input) unless nothing would be left.
fn strip_article(n: &str) -> &str {
    for article in IGNORED_ARTICLES.split(' ') {
        let article = article.to_lowercase();
        if let Some(rest) = n.strip_prefix(article.as_str())
            && let Some(rest) = rest.strip_prefix(' ')
            && !rest.is_empty()
        {
            return rest;
        }
    }
    n
}

/// The name an artist is sorted and indexed by: the original without a leading article.
pub(crate) fn sort_name(name: &str) -> &str {
    for article in IGNORED_ARTICLES.split(' ') {
        if name.len() > article.len() + 1
            && name.is_char_boundary(article.len())
            && name[..article.len()].eq_ignore_ascii_case(article)
            && name[article.len()..].starts_with(' ')
        {
            return name[article.len() + 1..].trim_start();
        }
    }
    name
}

/// Similarity of two normalized strings in `[0, 1]` (Jaro-Winkler, as Navidrome's matcher).
pub(crate) fn similarity(a: &str, b: &str) -> f64 {
    if a == b {
        return 1.0;
    }
    if a.is_empty() || b.is_empty() {
        return 0.0;
    }
    strsim::jaro_winkler(a, b)
}

/// ISRCs compare uppercase without separators (`us-xx1-19-00001` = `USXX11900001`).
pub(crate) fn normalize_isrc(s: &str) -> String {
    s.chars()
        .filter(|c| c.is_ascii_alphanumeric())
        .map(|c| c.to_ascii_uppercase())
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn normalize_strips_case_punctuation_and_diacritics() {
        assert_eq!(normalize("Café  Lumière!"), "cafe lumiere");
        assert_eq!(normalize("  Turbulence (Live) "), "turbulence live");
        assert_eq!(normalize("Zoë's—Song"), "zoe s song");
        assert_eq!(normalize("!!!"), "");
    }

    #[test]
    fn artist_articles_are_ignored_once() {
        assert_eq!(normalize_artist("The Midnight Owls"), "midnight owls");
        assert_eq!(normalize_artist("The The"), "the");
        assert_eq!(normalize_artist("The"), "the");
        assert_eq!(normalize_artist("Aurora Vale"), "aurora vale");
        assert_eq!(sort_name("The Midnight Owls"), "Midnight Owls");
        assert_eq!(sort_name("Aurora Vale"), "Aurora Vale");
        assert_eq!(sort_name("A"), "A");
    }

    #[test]
    fn similarity_is_one_for_equal_and_high_for_near() {
        assert_eq!(similarity("take off", "take off"), 1.0);
        assert_eq!(similarity("", "x"), 0.0);
        assert!(similarity("landing lights", "landing light") > 0.85);
        assert!(similarity("landing lights", "glass garden") < 0.85);
    }

    #[test]
    fn isrc_normalization() {
        assert_eq!(normalize_isrc("us-xx1-19-00001"), "USXX11900001");
    }
}
