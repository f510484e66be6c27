//! The server's layers, read from its source. Arrows point one way:
//! `http/` → `domain/` → `slack/` and `store/`, with `delivery/` beside
//! `domain/` (it uses domain, slack and store, and nothing uses it but
//! http and the start-up code) and `socket_mode` beside `http/` (Slack's
//! other way in). `slack/` and `store/` use no other part of
//! the server, nothing below `http/` knows HTTP, and no two parts use each
//! other, at the top level or between the files of one folder.

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// Each layer, and the layers it may use. The start-up code (`lib.rs`,
/// `main.rs`, `app.rs`, `settings.rs`) may use them all; of the layers,
/// only `http/` may use it (handlers get the app's state).
const LAYERS: &[(&str, &[&str], &str)] = &[
    ("http", &["domain", "delivery", "slack", "store"], "the API and Slack's endpoints: it turns requests into domain calls"),
    ("delivery", &["domain", "slack", "store"], "the worker that sends the outbox to Slack"),
    ("socket_mode", &["domain", "slack", "store"], "Slack's Socket Mode connections: a way in beside http, to the same domain calls"),
    ("domain", &["slack", "store"], "what Herald does, whoever asks: it knows no HTTP and starts no worker"),
    ("slack", &[], "Slack's Web API and its formats: it knows nothing of Herald's records or rules"),
    ("store", &[], "where Herald keeps things: it knows nothing of the rules that fill it"),
];
const START_UP: &[&str] = &["lib", "main", "app", "settings"];

#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct Use {
    from: Vec<String>,
    to: Vec<String>,
    line: usize,
}

#[test]
fn every_import_points_down_the_layers() {
    let files = sources();
    let mut wrong = Vec::new();
    for u in uses(&files) {
        let (from, to) = (&u.from[0], &u.to[0]);
        if from == to || START_UP.contains(&from.as_str()) {
            continue;
        }
        let Some((_, may_use, what)) = LAYERS.iter().find(|(layer, ..)| layer == from) else {
            wrong.push(format!("{}: `{from}` is not a layer: put it in one of {:?}", file_of(&files, &u.from), layer_names()));
            continue;
        };
        if START_UP.contains(&to.as_str()) && from == "http" {
            continue;
        }
        if !may_use.contains(&to.as_str()) {
            wrong.push(format!(
                "{}:{} uses {}: `{from}/` is {what}, so it may use only {may_use:?}",
                file_of(&files, &u.from),
                u.line,
                if to == "lib" { "the crate's root (lib.rs: AppState, run)".to_owned() } else { format!("crate::{}", u.to.join("::")) }
            ));
        }
    }
    assert!(wrong.is_empty(), "imports against the layers:\n{}", wrong.join("\n"));
}

#[test]
fn nothing_below_http_knows_http() {
    let mut wrong = Vec::new();
    for (module, (path, text)) in sources() {
        let layer = module[0].as_str();
        if layer == "http" || START_UP.contains(&layer) {
            continue;
        }
        for (n, line) in code(&text).lines().enumerate() {
            for name in ["axum", "StatusCode", "ApiError"] {
                if words(line).any(|w| w == name) {
                    wrong.push(format!(
                        "{}:{}: names `{name}`; return the layer's own error and let http/ choose the status",
                        path.display(),
                        n + 1
                    ));
                }
            }
        }
    }
    assert!(wrong.is_empty(), "HTTP below the http layer:\n{}", wrong.join("\n"));
}

#[test]
fn no_two_parts_use_each_other() {
    let files = sources();
    let uses = uses(&files);
    let mut cycles = Vec::new();
    // The top level, then the files (or folders) of each folder, leaving
    // out the folder's own `mod.rs`, which declares them.
    let mut levels: BTreeSet<Vec<String>> = BTreeSet::from([Vec::new()]);
    for module in files.keys() {
        for depth in 1..module.len() {
            levels.insert(module[..depth].to_vec());
        }
    }
    for level in levels {
        let mut edges: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
        for u in &uses {
            let inside = |m: &[String]| m.len() > level.len() && m.starts_with(&level);
            if inside(&u.from) && inside(&u.to) {
                let (a, b) = (&u.from[level.len()], &u.to[level.len()]);
                if a != b {
                    edges.entry(a.clone()).or_default().insert(b.clone());
                }
            }
        }
        if let Some(cycle) = find_cycle(&edges) {
            let place = if level.is_empty() { "server/src".to_owned() } else { format!("server/src/{}", level.join("/")) };
            cycles.push(format!("in {place}: {}", cycle.join(" → ")));
        }
    }
    assert!(cycles.is_empty(), "parts that use each other (one must not know the other):\n{}", cycles.join("\n"));
}

#[test]
fn the_reader_sees_every_kind_of_import() {
    // The reader below must see grouped, nested, inline and `super::`
    // paths, or the tests above would pass for want of seeing anything.
    let files = BTreeMap::from([
        (vec!["http".to_owned(), "alerts".to_owned()], (PathBuf::from("http/alerts.rs"), "use crate::{domain::{triage, alerts::Ingest}, store};\nfn f() { crate::slack::escape(\"crate::app\"); super::error::ApiError::x(); crate::AppState::f(); } // crate::app\n".to_owned())),
        (vec!["http".to_owned(), "error".to_owned()], (PathBuf::from("http/error.rs"), String::new())),
        (vec!["domain".to_owned(), "triage".to_owned()], (PathBuf::from("domain/triage.rs"), String::new())),
        (vec!["domain".to_owned(), "alerts".to_owned()], (PathBuf::from("domain/alerts.rs"), String::new())),
        (vec!["store".to_owned()], (PathBuf::from("store/mod.rs"), String::new())),
        (vec!["lib".to_owned()], (PathBuf::from("lib.rs"), String::new())),
        (vec!["slack".to_owned()], (PathBuf::from("slack/mod.rs"), String::new())),
    ]);
    let seen: Vec<String> = uses(&files).into_iter().map(|u| u.to.join("::")).collect();
    assert_eq!(seen, ["domain::alerts", "domain::triage", "http::error", "lib", "slack", "store"]);
}

fn layer_names() -> Vec<&'static str> {
    LAYERS.iter().map(|(name, ..)| *name).collect()
}

fn file_of(files: &BTreeMap<Vec<String>, (PathBuf, String)>, module: &[String]) -> String {
    files.get(module).map_or_else(|| module.join("/"), |(path, _)| path.display().to_string())
}

/// Every `.rs` file under `server/src`, by module path (`http/mod.rs` is
/// `["http"]`), with its text.
fn sources() -> BTreeMap<Vec<String>, (PathBuf, String)> {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = BTreeMap::new();
    let mut folders = vec![root.clone()];
    while let Some(folder) = folders.pop() {
        for entry in std::fs::read_dir(&folder).expect("reading server/src") {
            let path = entry.expect("a directory entry").path();
            if path.is_dir() {
                folders.push(path);
            } else if path.extension().is_some_and(|e| e == "rs") {
                let relative = path.strip_prefix(&root).expect("under src");
                let mut module: Vec<String> = relative.iter().map(|p| p.to_string_lossy().trim_end_matches(".rs").to_owned()).collect();
                if module.last().is_some_and(|m| m == "mod") {
                    module.pop();
                }
                let text = std::fs::read_to_string(&path).expect("reading a source file");
                files.insert(module, (PathBuf::from("server/src").join(relative), text));
            }
        }
    }
    files
}

/// The module each `crate::…` and `super::…` path in each file lands in:
/// the longest prefix of the path that is a file.
fn uses(files: &BTreeMap<Vec<String>, (PathBuf, String)>) -> Vec<Use> {
    let mut found = BTreeSet::new();
    for (module, (_, text)) in files {
        for (n, line) in code(text).lines().enumerate() {
            for (start, path) in paths(line) {
                let absolute: Vec<String> = match start {
                    Start::Crate => path,
                    // In `a/b.rs` and in `a/b/mod.rs` alike, `super` is `a`.
                    Start::Super(levels) => module[..module.len().saturating_sub(levels)].iter().cloned().chain(path).collect(),
                };
                // What no file is named for is declared in `lib.rs`
                // (`crate::AppState`).
                let to = (1..=absolute.len())
                    .rev()
                    .map(|k| absolute[..k].to_vec())
                    .find(|m| files.contains_key(m))
                    .unwrap_or_else(|| vec!["lib".to_owned()]);
                if &to != module && !module.starts_with(&to) {
                    found.insert(Use { from: module.clone(), to, line: n + 1 });
                }
            }
        }
    }
    // One entry per pair of files, at its first line.
    let mut first: BTreeMap<(Vec<String>, Vec<String>), usize> = BTreeMap::new();
    for u in found {
        let line = first.entry((u.from, u.to)).or_insert(u.line);
        *line = (*line).min(u.line);
    }
    first.into_iter().map(|((from, to), line)| Use { from, to, line }).collect()
}

enum Start {
    Crate,
    Super(usize),
}

/// The paths in one line of code, grouped imports spelled out:
/// `crate::{a::b, c}` is `a::b` and `c`.
fn paths(line: &str) -> Vec<(Start, Vec<String>)> {
    let mut out = Vec::new();
    let bytes = line.as_bytes();
    let mut i = 0;
    while i < line.len() {
        let at_word = i == 0 || !(bytes[i - 1].is_ascii_alphanumeric() || bytes[i - 1] == b'_' || bytes[i - 1] == b':');
        let rest = &line[i..];
        if at_word && rest.starts_with("crate::") {
            let mut prefixes = Vec::new();
            let end = group(&line[i + 7..], Vec::new(), &mut prefixes);
            out.extend(prefixes.into_iter().map(|p| (Start::Crate, p)));
            i += 7 + end.max(1);
        } else if at_word && rest.starts_with("super::") {
            let mut levels = 0;
            let mut j = i;
            while line[j..].starts_with("super::") {
                levels += 1;
                j += 7;
            }
            let mut prefixes = Vec::new();
            let end = group(&line[j..], Vec::new(), &mut prefixes);
            out.extend(prefixes.into_iter().map(|p| (Start::Super(levels), p)));
            i = j + end.max(1);
        } else {
            i += rest.chars().next().map_or(1, char::len_utf8);
        }
    }
    out
}

/// Reads `a::b::{c, d::e}` from the start of `text` onto `prefix`, pushing
/// each full path; returns how many bytes it read.
fn group(text: &str, prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    let mut path = prefix;
    let mut i = 0;
    loop {
        let rest = &text[i..];
        if let Some(inner) = rest.strip_prefix('{') {
            let mut read = 1;
            let mut inner_text = inner;
            loop {
                let skipped = inner_text.len() - inner_text.trim_start_matches([' ', ',']).len();
                read += skipped;
                inner_text = &inner_text[skipped..];
                if inner_text.is_empty() || inner_text.starts_with('}') {
                    return i + read + usize::from(!inner_text.is_empty());
                }
                let used = group(inner_text, path.clone(), out);
                if used == 0 {
                    return i + read;
                }
                read += used;
                inner_text = &inner_text[used..];
            }
        }
        let word: String = rest.chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '_').collect();
        if word.is_empty() || word == "self" {
            if !path.is_empty() {
                out.push(path);
            }
            return i + word.len();
        }
        i += word.len();
        path.push(word);
        if text[i..].starts_with("::") {
            i += 2;
        } else {
            out.push(path);
            return i;
        }
    }
}

/// The text with comments and string literals blanked, lines kept, up to
/// the file's unit tests (whose `super` is the file itself).
fn code(text: &str) -> String {
    let text = text.split("#[cfg(test)]\nmod tests").next().unwrap_or_default();
    let mut out = String::with_capacity(text.len());
    let mut chars = text.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '/' if chars.peek() == Some(&'/') => {
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                        break;
                    }
                }
            }
            '/' if chars.peek() == Some(&'*') => {
                let mut last = ' ';
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if last == '*' && c == '/' {
                        break;
                    }
                    last = c;
                }
            }
            '"' => {
                let mut escaped = false;
                for c in chars.by_ref() {
                    if c == '\n' {
                        out.push('\n');
                    }
                    if !escaped && c == '"' {
                        break;
                    }
                    escaped = !escaped && c == '\\';
                }
                out.push_str("\"\"");
            }
            // A char literal such as '"' must not open a string.
            '\'' if chars.clone().nth(1) == Some('\'') => {
                chars.next();
                chars.next();
                out.push_str("' '");
            }
            _ => out.push(c),
        }
    }
    out
}

fn words(line: &str) -> impl Iterator<Item = &str> {
    line.split(|c: char| !(c.is_ascii_alphanumeric() || c == '_')).filter(|w| !w.is_empty())
}

/// A cycle in the graph, as the names around it (first repeated last).
fn find_cycle(edges: &BTreeMap<String, BTreeSet<String>>) -> Option<Vec<String>> {
    fn visit(
        node: &str,
        edges: &BTreeMap<String, BTreeSet<String>>,
        stack: &mut Vec<String>,
        done: &mut BTreeSet<String>,
    ) -> Option<Vec<String>> {
        if let Some(at) = stack.iter().position(|n| n == node) {
            let mut cycle = stack[at..].to_vec();
            cycle.push(node.to_owned());
            return Some(cycle);
        }
        if done.contains(node) {
            return None;
        }
        stack.push(node.to_owned());
        for next in edges.get(node).into_iter().flatten() {
            if let Some(cycle) = visit(next, edges, stack, done) {
                return Some(cycle);
            }
        }
        stack.pop();
        done.insert(node.to_owned());
        None
    }
    let mut done = BTreeSet::new();
    edges.keys().find_map(|node| visit(node, edges, &mut Vec::new(), &mut done))
}
