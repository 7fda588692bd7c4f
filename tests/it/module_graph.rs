//! The layering rules of docs/architecture.md, checked on the source tree: the feature-level
//! module graph has no cycle except through the state layer (`state`, `store`, `app`), no
//! service module imports axum, and only `src/app.rs` mounts feature routes.
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

/// The modules that may point back at features: `state` holds feature caches, `store` sums the
/// features' store traits, `app` assembles the router.
const STATE: &[&str] = &["app", "state", "store"];

fn rust_files(dir: &Path, out: &mut Vec<PathBuf>) {
    for entry in std::fs::read_dir(dir).expect("read src") {
        let path = entry.expect("entry").path();
        if path.is_dir() {
            rust_files(&path, out);
        } else if path.extension().is_some_and(|e| e == "rs") {
            out.push(path);
        }
    }
}

struct Source {
    /// Path relative to `src/`, with `/` separators.
    rel: String,
    /// The top-level module the file belongs to (`users` for `src/users/service/update.rs`).
    top: String,
    text: String,
}

fn sources() -> Vec<Source> {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("src");
    let mut files = Vec::new();
    rust_files(&src, &mut files);
    files.sort();
    files
        .into_iter()
        .map(|p| {
            let rel = p
                .strip_prefix(&src)
                .expect("under src")
                .to_string_lossy()
                .replace('\\', "/");
            let first = rel.split('/').next().unwrap_or_default();
            let top = first.strip_suffix(".rs").unwrap_or(first).to_string();
            // Comment lines may name modules without depending on them.
            let text = std::fs::read_to_string(&p)
                .expect("read source")
                .lines()
                .filter(|l| !l.trim_start().starts_with("//"))
                .collect::<Vec<_>>()
                .join("\n");
            Source { rel, top, text }
        })
        .collect()
}

fn is_ident(c: char) -> bool {
    c.is_ascii_alphanumeric() || c == '_'
}

/// The top-level modules a file names through `crate::…`, including `use crate::{a::x, b::y}`.
fn crate_refs(text: &str) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    let mut rest = text;
    while let Some(at) = rest.find("crate::") {
        let before_ok = rest[..at].chars().next_back().is_none_or(|c| !is_ident(c));
        rest = &rest[at + "crate::".len()..];
        if !before_ok {
            continue;
        }
        if let Some(group) = rest.strip_prefix('{') {
            // A use group: every path at nesting depth 1 starts with a module name.
            let mut depth = 1;
            let mut item_start = true;
            let mut name = String::new();
            for c in group.chars() {
                match c {
                    '{' => depth += 1,
                    '}' if depth == 1 => break,
                    '}' => depth -= 1,
                    ',' if depth == 1 => item_start = true,
                    c if depth == 1 && item_start && is_ident(c) => name.push(c),
                    _ if depth == 1 && item_start && !name.is_empty() => {
                        out.insert(std::mem::take(&mut name));
                        item_start = false;
                    }
                    _ => {}
                }
            }
            if !name.is_empty() {
                out.insert(name);
            }
        } else {
            let name: String = rest.chars().take_while(|c| is_ident(*c)).collect();
            if !name.is_empty() {
                out.insert(name);
            }
        }
    }
    out
}

/// Strongly connected components with more than one member (Tarjan).
fn cycles(graph: &BTreeMap<String, BTreeSet<String>>) -> Vec<Vec<String>> {
    struct Walk<'a> {
        graph: &'a BTreeMap<String, BTreeSet<String>>,
        index: BTreeMap<&'a str, usize>,
        low: BTreeMap<&'a str, usize>,
        stack: Vec<&'a str>,
        on_stack: BTreeSet<&'a str>,
        found: Vec<Vec<String>>,
    }
    impl<'a> Walk<'a> {
        fn visit(&mut self, v: &'a str) {
            let i = self.index.len();
            self.index.insert(v, i);
            self.low.insert(v, i);
            self.stack.push(v);
            self.on_stack.insert(v);
            for w in self.graph.get(v).into_iter().flatten() {
                let w = w.as_str();
                if !self.index.contains_key(w) {
                    self.visit(w);
                    let lw = self.low[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(lw));
                } else if self.on_stack.contains(w) {
                    let iw = self.index[w];
                    let lv = self.low[v];
                    self.low.insert(v, lv.min(iw));
                }
            }
            if self.low[v] == self.index[v] {
                let mut comp = Vec::new();
                while let Some(w) = self.stack.pop() {
                    self.on_stack.remove(w);
                    comp.push(w.to_string());
                    if w == v {
                        break;
                    }
                }
                if comp.len() > 1 {
                    comp.sort();
                    self.found.push(comp);
                }
            }
        }
    }
    let mut walk = Walk {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        found: Vec::new(),
    };
    for v in graph.keys() {
        if !walk.index.contains_key(v.as_str()) {
            walk.visit(v);
        }
    }
    walk.found
}

#[test]
fn crate_refs_reads_paths_and_use_groups() {
    let refs = crate_refs(
        "use crate::auth::{Principal, ADMINISTRATORS};\nuse crate::{error::ApiError, \
         store::{Tx, StoreError}, state::App};\nlet x = crate::clock::now(); my_crate::ignored;",
    );
    let want: BTreeSet<String> = ["auth", "error", "store", "state", "clock"]
        .into_iter()
        .map(String::from)
        .collect();
    assert_eq!(refs, want);
}

#[test]
fn routes_calls_are_found_with_their_paths() {
    let text = ".merge(crate::users::api::routes())\n.merge(super::import_api::routes())";
    assert_eq!(
        routes_calls(text),
        vec!["crate::users::api", "super::import_api"]
    );
}

#[test]
fn cycle_finder_finds_a_cycle_and_only_it() {
    let mut g: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    for (a, b) in [("a", "b"), ("b", "c"), ("c", "a"), ("c", "d"), ("d", "e")] {
        g.entry(a.into()).or_default().insert(b.into());
    }
    assert_eq!(cycles(&g), vec![vec!["a", "b", "c"]]);
}

#[test]
fn feature_modules_form_no_cycle_outside_the_state_layer() {
    let sources = sources();
    let tops: BTreeSet<String> = sources.iter().map(|s| s.top.clone()).collect();
    let mut graph: BTreeMap<String, BTreeSet<String>> = BTreeMap::new();
    let mut why: BTreeMap<(String, String), BTreeSet<String>> = BTreeMap::new();
    for s in &sources {
        if STATE.contains(&s.top.as_str()) || s.top == "main" || s.top == "lib" {
            continue;
        }
        for to in crate_refs(&s.text) {
            if to != s.top && tops.contains(&to) {
                graph.entry(s.top.clone()).or_default().insert(to.clone());
                why.entry((s.top.clone(), to))
                    .or_default()
                    .insert(s.rel.clone());
            }
        }
    }
    let found = cycles(&graph);
    let mut report = String::new();
    for comp in &found {
        report.push_str(&format!("cycle among {comp:?}:\n"));
        for a in comp {
            for b in comp {
                if let Some(files) = why.get(&(a.clone(), b.clone())) {
                    report.push_str(&format!("  {a} -> {b} in {files:?}\n"));
                }
            }
        }
    }
    assert!(found.is_empty(), "{report}");
}

#[test]
fn only_the_http_layer_imports_axum() {
    let http_layer = |rel: &str| {
        rel.ends_with("/api.rs")
            || rel.ends_with("_api.rs")
            || rel.starts_with("http/")
            || rel.starts_with("ui/")
            || ["app.rs", "lib.rs", "health.rs", "stubs.rs"].contains(&rel)
    };
    let sources = sources();
    let offenders: Vec<&str> = sources
        .iter()
        .filter(|s| !http_layer(&s.rel))
        .filter(|s| s.text.contains("axum::") || s.text.contains("use axum"))
        .map(|s| s.rel.as_str())
        .collect();
    assert!(
        offenders.is_empty(),
        "services and stores import axum: {offenders:?}"
    );
}

/// The path before each `::routes()` call in `text` (`crate::users::api`, `super::import_api`).
fn routes_calls(text: &str) -> Vec<&str> {
    text.match_indices("::routes()")
        .map(|(at, _)| {
            let before = &text[..at];
            let start = before
                .rfind(|c: char| !(is_ident(c) || c == ':'))
                .map_or(0, |i| i + 1);
            &before[start..]
        })
        .collect()
}

#[test]
fn only_app_mounts_feature_routes() {
    // A feature may assemble its own sub-routers (`super::…`); another feature's routes are
    // mounted by app.rs alone.
    let offenders: Vec<String> = sources()
        .iter()
        .filter(|s| s.rel != "app.rs")
        .filter(|s| {
            routes_calls(&s.text)
                .iter()
                .any(|p| !(p.starts_with("super::") || p.starts_with("self::")))
        })
        .map(|s| s.rel.clone())
        .collect();
    assert!(
        offenders.is_empty(),
        "routes mounted outside app.rs: {offenders:?}"
    );
}
