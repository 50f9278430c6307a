//! Architecture checks over the sources (no servers needed):
//!
//! 1. **No module cycle**: in every workspace crate, the modules and the modules they name through
//!    `crate::…` and `super::…` paths (and, in a crate root, bare paths starting with a module it
//!    declares) form no cycle. A module declaring or re-exporting (`pub use`) its children is not
//!    a dependency on them; `#[cfg(test)]` items and `tests.rs` files are left out (tests may look
//!    anywhere).
//! 2. **Crate arrows** from the Cargo.toml files: the domain depends on nothing of ours and does no
//!    I/O; the application layer links no AWS SDK, HTTP client or Lambda runtime; an adapter knows no
//!    other adapter and no entry point; only the system tests depend on the CLI; functions link no
//!    command-line crates.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};

/// Cycles other changes are removing right now, as `(crate, module, module)` with both modules
/// naming each other. Each must still exist (the test fails once it is gone, so that the entry is
/// deleted with it); this list ends empty.
const KNOWN_CYCLES_BEING_REMOVED: &[(&str, &str, &str)] = &[];

/// The module graph of one crate: module path (`lib` for the crate root) → modules it names.
type Graph = BTreeMap<String, BTreeSet<String>>;

/// The crate root's name in the graph and in messages.
const ROOT: &str = "lib";

fn workspace_root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).parent().expect("tests/ sits in the workspace").to_path_buf()
}

/// A workspace member: its package name, folder (relative to the root) and manifest.
struct Member {
    name: String,
    dir: String,
    manifest: toml::Table,
}

fn members() -> Vec<Member> {
    let root = workspace_root();
    let workspace = read_manifest(&root.join("Cargo.toml"));
    let dirs = workspace["workspace"]["members"].as_array().expect("workspace.members is a list");
    dirs.iter()
        .map(|dir| {
            let dir = dir.as_str().expect("a member is a path").to_owned();
            let manifest = read_manifest(&root.join(&dir).join("Cargo.toml"));
            let name = manifest["package"]["name"].as_str().expect("package.name").to_owned();
            Member { name, dir, manifest }
        })
        .collect()
}

fn read_manifest(path: &Path) -> toml::Table {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.parse().unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

// ---------------------------------------------------------------------------------------------
// 1. Module cycles
// ---------------------------------------------------------------------------------------------

#[test]
fn no_workspace_crate_has_a_module_cycle() {
    let root = workspace_root();
    let mut found = Vec::new();
    let mut known_still_there = BTreeSet::new();
    for member in members() {
        for (target, mut graph) in module_graphs(&root.join(&member.dir).join("src")) {
            let label = if target == ROOT { member.name.clone() } else { format!("{} ({target})", member.name) };
            for &(krate, a, b) in KNOWN_CYCLES_BEING_REMOVED {
                if krate != member.name || target != ROOT {
                    continue;
                }
                let names = |from: &str, to: &str| graph.get(from).is_some_and(|targets| targets.contains(to));
                if names(a, b) && names(b, a) {
                    known_still_there.insert((krate, a, b));
                    graph.get_mut(a).map(|targets| targets.remove(b));
                    graph.get_mut(b).map(|targets| targets.remove(a));
                }
            }
            for component in entangled(&graph) {
                let cycle = shortest_cycle_through(&graph, &component).join(" -> ");
                found.push(format!("{label}: {cycle} (entangled: {})", component.join(", ")));
            }
        }
    }
    let gone: Vec<_> = KNOWN_CYCLES_BEING_REMOVED.iter().filter(|known| !known_still_there.contains(*known)).collect();
    assert!(gone.is_empty(), "these cycles are gone: delete them from KNOWN_CYCLES_BEING_REMOVED: {gone:?}");
    assert!(found.is_empty(), "module cycles:\n  {}", found.join("\n  "));
}

/// One cycle per strongly connected component of more than one module, each written as a path
/// that starts and ends at the same module (e.g. `["a", "b", "a"]`).
fn cycles(graph: &Graph) -> Vec<Vec<String>> {
    entangled(graph).iter().map(|component| shortest_cycle_through(graph, component)).collect()
}

/// The groups of modules that each reach one another (strongly connected, more than one module).
fn entangled(graph: &Graph) -> Vec<Vec<String>> {
    strongly_connected(graph).into_iter().filter(|component| component.len() > 1).collect()
}

/// Tarjan's algorithm; components come out with their modules sorted.
fn strongly_connected(graph: &Graph) -> Vec<Vec<String>> {
    struct State<'g> {
        graph: &'g Graph,
        index: BTreeMap<&'g str, usize>,
        low: BTreeMap<&'g str, usize>,
        stack: Vec<&'g str>,
        on_stack: BTreeSet<&'g str>,
        components: Vec<Vec<String>>,
    }
    fn visit<'g>(state: &mut State<'g>, node: &'g str) {
        let next = state.index.len();
        state.index.insert(node, next);
        state.low.insert(node, next);
        state.stack.push(node);
        state.on_stack.insert(node);
        for target in state.graph.get(node).into_iter().flatten() {
            let target = target.as_str();
            if !state.index.contains_key(target) {
                visit(state, target);
                let low = state.low[node].min(state.low[target]);
                state.low.insert(node, low);
            } else if state.on_stack.contains(target) {
                let low = state.low[node].min(state.index[target]);
                state.low.insert(node, low);
            }
        }
        if state.low[node] == state.index[node] {
            let mut component = Vec::new();
            while let Some(member) = state.stack.pop() {
                state.on_stack.remove(member);
                component.push(member.to_owned());
                if member == node {
                    break;
                }
            }
            component.sort();
            state.components.push(component);
        }
    }
    let mut state = State {
        graph,
        index: BTreeMap::new(),
        low: BTreeMap::new(),
        stack: Vec::new(),
        on_stack: BTreeSet::new(),
        components: Vec::new(),
    };
    for node in graph.keys() {
        if !state.index.contains_key(node.as_str()) {
            visit(&mut state, node);
        }
    }
    state.components
}

/// Breadth-first from the component's first module back to itself, inside the component.
fn shortest_cycle_through(graph: &Graph, component: &[String]) -> Vec<String> {
    let inside: BTreeSet<&str> = component.iter().map(String::as_str).collect();
    let start = component[0].as_str();
    let mut came_from: BTreeMap<&str, &str> = BTreeMap::new();
    let mut queue = VecDeque::from([start]);
    while let Some(node) = queue.pop_front() {
        for target in graph.get(node).into_iter().flatten().map(String::as_str) {
            if !inside.contains(target) {
                continue;
            }
            if target == start {
                let mut path = vec![start.to_owned()];
                let mut at = node;
                while at != start {
                    path.push(at.to_owned());
                    at = came_from[at];
                }
                path.push(start.to_owned());
                path.reverse();
                return path;
            }
            if !came_from.contains_key(target) {
                came_from.insert(target, node);
                queue.push_back(target);
            }
        }
    }
    unreachable!("a strongly connected component of more than one module has a cycle through each of them")
}

/// The module graphs of a crate's targets under `src`: the library (named [`ROOT`]) from `lib.rs`,
/// the binary `main` from `main.rs`, and one per file under `src/bin/`.
fn module_graphs(src: &Path) -> Vec<(String, Graph)> {
    let mut roots = Vec::new();
    if src.join("lib.rs").is_file() {
        roots.push((ROOT.to_owned(), src.join("lib.rs")));
    }
    if src.join("main.rs").is_file() {
        roots.push(("main".to_owned(), src.join("main.rs")));
    }
    if let Ok(entries) = std::fs::read_dir(src.join("bin")) {
        let mut bins: Vec<PathBuf> = entries.map(|entry| entry.expect("a readable src/bin").path()).collect();
        bins.sort();
        for bin in bins.into_iter().filter(|path| path.extension().is_some_and(|ext| ext == "rs")) {
            let name = bin.file_stem().expect("a file name").to_string_lossy().into_owned();
            roots.push((format!("bin/{name}"), bin));
        }
    }
    roots
        .into_iter()
        .map(|(target, file)| {
            let mut sources = Vec::new();
            collect_modules(&file, file.parent().expect("src"), &[], &mut sources);
            (target, graph_of(&sources))
        })
        .collect()
}

/// A module's source file as found by following `mod name;` from the crate root.
struct ModuleSource {
    path: Vec<String>,
    text: String,
}

/// Follows `mod name;` declarations (not under `#[cfg(test)]`, not named `tests`) into files:
/// `dir/name.rs` or `dir/name/mod.rs`, where `dir` holds the children of `path`.
fn collect_modules(file: &Path, children_dir: &Path, path: &[String], out: &mut Vec<ModuleSource>) {
    let text = std::fs::read_to_string(file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
    let items = scan(&text);
    for child in &items.file_modules {
        let mut child_path = path.to_vec();
        child_path.push(child.clone());
        let flat = children_dir.join(format!("{child}.rs"));
        let nested = children_dir.join(child).join("mod.rs");
        let (child_file, grandchildren_dir) = if flat.is_file() {
            (flat, children_dir.join(child))
        } else if nested.is_file() {
            (nested, children_dir.join(child))
        } else {
            panic!("{}: `mod {child};` has no file", file.display())
        };
        collect_modules(&child_file, &grandchildren_dir, &child_path, out);
    }
    out.push(ModuleSource { path: path.to_vec(), text });
}

/// Every module (inline ones included) → the modules its `crate::` and `super::` paths name: the
/// longest known module at the start of each path. Names a module makes of itself are dropped. A
/// crate root also names the children its bare paths start with, except in `pub use` items.
fn graph_of(sources: &[ModuleSource]) -> Graph {
    let scanned: Vec<(&ModuleSource, Scan)> = sources.iter().map(|source| (source, scan(&source.text))).collect();
    let mut known: BTreeSet<Vec<String>> = BTreeSet::new();
    for (source, items) in &scanned {
        known.insert(source.path.clone());
        for inline in &items.inline_modules {
            known.insert([source.path.clone(), inline.clone()].concat());
        }
    }
    let mut graph = Graph::new();
    for module in &known {
        graph.entry(module_name(module)).or_default();
    }
    for (source, items) in &scanned {
        for reference in &items.references {
            let from = [source.path.clone(), reference.inside.clone()].concat();
            let Some(absolute) = reference.absolute(&from) else { continue };
            let to = (0..=absolute.len()).rev().map(|n| &absolute[..n]).find(|prefix| known.contains(*prefix));
            if let Some(to) = to
                && to != from.as_slice()
            {
                graph.entry(module_name(&from)).or_default().insert(module_name(to));
            }
        }
        // A crate root names its children by bare paths (`shard::scan`), which `crate::…` paths
        // would not show; a path into another crate (`deltaone::drift`) names no child.
        if source.path.is_empty() {
            for first in &items.bare_paths {
                if known.contains(std::slice::from_ref(first)) {
                    graph.entry(ROOT.to_owned()).or_default().insert(first.clone());
                }
            }
        }
    }
    graph
}

fn module_name(path: &[String]) -> String {
    if path.is_empty() { ROOT.to_owned() } else { path.join("::") }
}

/// A path naming something in the crate, as written in a module.
#[derive(Debug, PartialEq)]
struct Reference {
    /// The inline modules (within the file's module) the path is written in.
    inside: Vec<String>,
    /// `None` for `crate::…`; the number of `super::` otherwise.
    supers: Option<usize>,
    /// The segments after `crate::` or the `super::`s.
    segments: Vec<String>,
}

impl Reference {
    /// The path from the crate root; `None` when `super` climbs above it.
    fn absolute(&self, from: &[String]) -> Option<Vec<String>> {
        let base = match self.supers {
            None => &[][..],
            Some(n) => from.get(..from.len().checked_sub(n)?)?,
        };
        Some([base.to_vec(), self.segments.clone()].concat())
    }
}

/// What one file says about modules: the files it declares, its inline modules and its paths.
#[derive(Debug, Default)]
struct Scan {
    file_modules: Vec<String>,
    /// Inline (non-test) modules by their path within the file, e.g. `["timing"]`.
    inline_modules: Vec<Vec<String>>,
    references: Vec<Reference>,
    /// The first segments of bare paths (`shard::scan`, `use read::open::ReadContext`) outside
    /// inline modules and outside `pub use` items: in a crate root they name its children.
    bare_paths: BTreeSet<String>,
}

/// Reads a file's tokens: skips `#[cfg(test)]` items and modules named `tests`, follows inline
/// modules, and collects every `crate::` and `super::` path (use trees expanded).
fn scan(text: &str) -> Scan {
    let tokens = tokenize(text);
    let mut out = Scan::default();
    // Inline modules open at a brace depth: (name, depth inside its braces).
    let mut inline: Vec<(String, usize)> = Vec::new();
    let mut depth = 0usize;
    // Inside a `pub use` item, up to its `;`: a facade re-exporting depends on nothing.
    let mut reexport = false;
    let mut i = 0;
    while i < tokens.len() {
        let token = tokens[i].as_str();
        match token {
            ";" => reexport = false,
            "pub" if is_reexport(&tokens, i) => reexport = true,
            "self" if tokens.get(i + 1).is_some_and(|t| t == "::") => {
                // `self::shard::scan` is the bare path `shard::scan`.
                i += 2;
                continue;
            }
            word if is_identifier(word)
                && !reexport
                && inline.is_empty()
                && !["crate", "super", "self", "Self"].contains(&word)
                && (i == 0 || tokens[i - 1] != "::")
                && tokens.get(i + 1).is_some_and(|t| t == "::")
                && tokens.get(i + 2).is_some_and(|t| t != "<") =>
            {
                out.bare_paths.insert(word.to_owned());
            }
            "#" if tokens.get(i + 1).is_some_and(|t| t == "[") => {
                let end = matching(&tokens, i + 1, "[", "]");
                let attribute: String = tokens[i + 2..end].concat();
                i = end + 1;
                if attribute == "cfg(test)" {
                    i = skip_item(&tokens, i);
                }
                continue;
            }
            "{" => depth += 1,
            "}" => {
                depth = depth.saturating_sub(1);
                if inline.last().is_some_and(|(_, open)| *open > depth) {
                    inline.pop();
                }
            }
            "mod" => {
                if let Some(name) = tokens.get(i + 1) {
                    match tokens.get(i + 2).map(String::as_str) {
                        Some(";") if name != "tests" => out.file_modules.push(name.clone()),
                        Some("{") if name == "tests" => {
                            i = matching(&tokens, i + 2, "{", "}") + 1;
                            continue;
                        }
                        Some("{") => {
                            inline.push((name.clone(), depth + 1));
                            out.inline_modules.push(inline.iter().map(|(name, _)| name.clone()).collect());
                            depth += 1;
                            i += 3;
                            continue;
                        }
                        _ => {}
                    }
                }
            }
            "crate" | "super" if tokens.get(i + 1).is_some_and(|t| t == "::") => {
                // `pub(crate)`, `pub(super)` are visibilities, not paths: they have no `::`.
                let inside: Vec<String> = inline.iter().map(|(name, _)| name.clone()).collect();
                let mut supers = None;
                let mut j = i;
                if token == "super" {
                    let mut n = 0;
                    while tokens.get(j).is_some_and(|t| t == "super") && tokens.get(j + 1).is_some_and(|t| t == "::") {
                        n += 1;
                        j += 2;
                    }
                    supers = Some(n);
                } else {
                    j += 2;
                }
                let mut paths = Vec::new();
                j = use_tree(&tokens, j, Vec::new(), &mut paths);
                for segments in paths {
                    out.references.push(Reference { inside: inside.clone(), supers, segments });
                }
                i = j;
                continue;
            }
            _ => {}
        }
        i += 1;
    }
    out
}

/// Whether the `pub` at `i` starts a `pub use` (or `pub(crate) use`, `pub(in …) use`) item.
fn is_reexport(tokens: &[String], i: usize) -> bool {
    let after = if tokens.get(i + 1).is_some_and(|t| t == "(") { matching(tokens, i + 1, "(", ")") + 1 } else { i + 1 };
    tokens.get(after).is_some_and(|t| t == "use")
}

/// Reads a path (or use tree) from `i`: segments joined by `::`, `{…}` groups expanded, `as`
/// renames ignored. Returns where it ended.
fn use_tree(tokens: &[String], mut i: usize, mut prefix: Vec<String>, out: &mut Vec<Vec<String>>) -> usize {
    loop {
        match tokens.get(i).map(String::as_str) {
            Some("{") => {
                i += 1;
                while tokens.get(i).is_some_and(|t| t != "}") {
                    i = use_tree(tokens, i, prefix.clone(), out);
                    if tokens.get(i).is_some_and(|t| t == ",") {
                        i += 1;
                    }
                }
                return i + 1;
            }
            Some(segment) if is_identifier(segment) => {
                if segment != "self" {
                    prefix.push(segment.to_owned());
                }
                i += 1;
                if tokens.get(i).is_some_and(|t| t == "::") && tokens.get(i + 1).is_some_and(|t| t != "<") {
                    i += 1;
                    continue;
                }
                if tokens.get(i).is_some_and(|t| t == "as") {
                    i += 2;
                }
                out.push(prefix);
                return i;
            }
            // `crate::*` or `super::*`, or a path ending in `::<T>`.
            _ => {
                out.push(prefix);
                return i;
            }
        }
    }
}

/// Skips the item starting at `i` (after its attributes): up to its `;` or its closing brace.
fn skip_item(tokens: &[String], mut i: usize) -> usize {
    while i < tokens.len() {
        match tokens[i].as_str() {
            ";" => return i + 1,
            "{" => return matching(tokens, i, "{", "}") + 1,
            "#" if tokens.get(i + 1).is_some_and(|t| t == "[") => i = matching(tokens, i + 1, "[", "]") + 1,
            "(" => i = matching(tokens, i, "(", ")") + 1,
            _ => i += 1,
        }
    }
    i
}

/// The index of the token closing the bracket at `open` (or the last token if it never closes).
fn matching(tokens: &[String], open: usize, left: &str, right: &str) -> usize {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        if token == left {
            depth += 1;
        } else if token == right {
            depth -= 1;
            if depth == 0 {
                return i;
            }
        }
    }
    tokens.len().saturating_sub(1)
}

fn is_identifier(token: &str) -> bool {
    token.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_')
}

/// Identifiers, `::` and single punctuation characters; comments, string and character literals
/// and lifetimes are dropped (their text could hold braces or paths).
fn tokenize(text: &str) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        let next = chars.get(i + 1).copied();
        if c.is_whitespace() {
            i += 1;
        } else if c == '/' && next == Some('/') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && next == Some('*') {
            let mut depth = 0;
            while i < chars.len() {
                if chars[i] == '/' && chars.get(i + 1) == Some(&'*') {
                    depth += 1;
                    i += 2;
                } else if chars[i] == '*' && chars.get(i + 1) == Some(&'/') {
                    depth -= 1;
                    i += 2;
                    if depth == 0 {
                        break;
                    }
                } else {
                    i += 1;
                }
            }
        } else if let Some(end) = raw_string_end(&chars, i) {
            i = end;
        } else if c == '"' || (c == 'b' && next == Some('"')) {
            i += if c == 'b' { 2 } else { 1 };
            while i < chars.len() && chars[i] != '"' {
                i += if chars[i] == '\\' { 2 } else { 1 };
            }
            i += 1;
        } else if c == '\'' {
            // A character literal closes within a few characters; a lifetime does not.
            if next == Some('\\') {
                i += 2;
                while i < chars.len() && chars[i] != '\'' {
                    i += 1;
                }
                i += 1;
            } else if chars.get(i + 2) == Some(&'\'') {
                i += 3;
            } else {
                i += 1;
                while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                    i += 1;
                }
            }
        } else if c.is_alphanumeric() || c == '_' {
            let start = i;
            while i < chars.len() && (chars[i].is_alphanumeric() || chars[i] == '_') {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            // `r#ident` is the identifier itself.
            if word == "r" && chars.get(i) == Some(&'#') && chars.get(i + 1).is_some_and(|c| c.is_alphabetic()) {
                continue;
            }
            tokens.push(word);
        } else if c == ':' && next == Some(':') {
            tokens.push("::".to_owned());
            i += 2;
        } else {
            tokens.push(c.to_string());
            i += 1;
        }
    }
    tokens
}

/// `r"…"`, `r#"…"#`, `br"…"`: where the literal ends, if one starts at `i`.
fn raw_string_end(chars: &[char], i: usize) -> Option<usize> {
    if i > 0 && (chars[i - 1].is_alphanumeric() || chars[i - 1] == '_') {
        return None;
    }
    let mut j = i;
    if chars.get(j) == Some(&'b') {
        j += 1;
    }
    if chars.get(j) != Some(&'r') {
        return None;
    }
    j += 1;
    let mut hashes = 0;
    while chars.get(j) == Some(&'#') {
        hashes += 1;
        j += 1;
    }
    if chars.get(j) != Some(&'"') {
        return None;
    }
    j += 1;
    while j < chars.len() {
        if chars[j] == '"' && (1..=hashes).all(|k| chars.get(j + k) == Some(&'#')) {
            return Some(j + 1 + hashes);
        }
        j += 1;
    }
    Some(chars.len())
}

// ---------------------------------------------------------------------------------------------
// 2. Crate arrows
// ---------------------------------------------------------------------------------------------

/// Which dependency tables to read.
#[derive(Clone, Copy, PartialEq)]
enum Kinds {
    /// `[dependencies]` and `[build-dependencies]`, also per target.
    Linked,
    /// Those and `[dev-dependencies]`.
    All,
}

/// The names of a manifest's dependencies (a renamed one by its package name).
fn dependencies(manifest: &toml::Table, kinds: Kinds) -> BTreeSet<String> {
    let mut tables: Vec<&toml::Table> = vec![manifest];
    if let Some(targets) = manifest.get("target").and_then(toml::Value::as_table) {
        tables.extend(targets.values().filter_map(toml::Value::as_table));
    }
    let mut sections = vec!["dependencies", "build-dependencies"];
    if kinds == Kinds::All {
        sections.push("dev-dependencies");
    }
    let mut names = BTreeSet::new();
    for table in tables {
        for section in &sections {
            for (key, value) in table.get(*section).and_then(toml::Value::as_table).into_iter().flatten() {
                let package = value.get("package").and_then(toml::Value::as_str).unwrap_or(key);
                names.insert(package.to_owned());
            }
        }
    }
    names
}

/// Crates that speak to AWS, speak HTTP or run async code.
fn does_io(name: &str) -> bool {
    name.starts_with("aws-")
        || name.starts_with("aws_")
        || name.starts_with("lambda_")
        || ["reqwest", "hyper", "http", "tokio", "futures", "async-trait", "tower"].contains(&name)
}

/// `(crate, dependency)` pairs that break a rule.
fn breaking(
    members: &[Member],
    kinds: Kinds,
    who: impl Fn(&Member) -> bool,
    forbidden: impl Fn(&str) -> bool,
) -> Vec<String> {
    members
        .iter()
        .filter(|member| who(member))
        .flat_map(|member| {
            dependencies(&member.manifest, kinds)
                .into_iter()
                .filter(|dependency| forbidden(dependency))
                .map(|dependency| format!("{} -> {dependency}", member.name))
                .collect::<Vec<_>>()
        })
        .collect()
}

fn workspace_names(members: &[Member]) -> BTreeSet<String> {
    members.iter().map(|member| member.name.clone()).collect()
}

#[test]
fn the_domain_depends_on_no_workspace_crate_and_does_no_io() {
    let members = members();
    let ours = workspace_names(&members);
    let found = breaking(&members, Kinds::All, |m| m.name == "deltaone", |d| ours.contains(d) || does_io(d));
    assert!(found.is_empty(), "the domain must stay pure: {found:?}");
}

#[test]
fn the_application_layer_links_no_aws_sdk_http_client_or_lambda_runtime() {
    let members = members();
    let forbidden = |d: &str| d.starts_with("aws-sdk-") || ["aws-config", "reqwest", "lambda_runtime"].contains(&d);
    let found = breaking(&members, Kinds::Linked, |m| m.name == "deltaone-app", forbidden);
    assert!(found.is_empty(), "the application layer reaches adapters only through its ports: {found:?}");
}

#[test]
fn an_adapter_depends_on_no_other_adapter_and_no_entry_point() {
    let members = members();
    let adapters: BTreeSet<String> =
        members.iter().filter(|m| m.dir.starts_with("infra/adapters/")).map(|m| m.name.clone()).collect();
    assert!(adapters.len() >= 4, "the adapters are found under infra/adapters/: {adapters:?}");
    let forbidden = |d: &str| adapters.contains(d) || ["deltaone-wiring", "deltaone-cli"].contains(&d);
    let found = breaking(&members, Kinds::All, |m| adapters.contains(&m.name), forbidden);
    assert!(found.is_empty(), "adapters stand side by side: {found:?}");
}

#[test]
fn only_the_system_tests_depend_on_the_cli() {
    let members = members();
    let found = breaking(&members, Kinds::All, |m| m.name != "deltaone-system-tests", |d| d == "deltaone-cli");
    assert!(found.is_empty(), "the CLI is an entry point, not a library: {found:?}");
}

#[test]
fn functions_link_no_command_line_crates() {
    let members = members();
    let functions: Vec<&Member> = members.iter().filter(|m| m.dir.starts_with("functions/")).collect();
    assert_eq!(functions.len(), 6, "the six functions are found under functions/");
    let forbidden = |d: &str| ["deltaone-cli", "clap", "indicatif", "toml"].contains(&d);
    let found = breaking(&members, Kinds::Linked, |m| m.dir.starts_with("functions/"), forbidden);
    assert!(found.is_empty(), "a Lambda function links only what its handler uses: {found:?}");
}

// ---------------------------------------------------------------------------------------------
// The checks themselves, on crafted examples
// ---------------------------------------------------------------------------------------------

fn graph(edges: &[(&str, &str)]) -> Graph {
    let mut graph = Graph::new();
    for (from, to) in edges {
        graph.entry((*from).to_owned()).or_default().insert((*to).to_owned());
        graph.entry((*to).to_owned()).or_default();
    }
    graph
}

#[test]
fn the_cycle_finder_names_a_cycle_of_two_and_of_three_modules() {
    let found = cycles(&graph(&[("rule", "verdict"), ("verdict", "rule"), ("lib", "rule")]));
    assert_eq!(found, vec![vec!["rule", "verdict", "rule"]]);

    let found = cycles(&graph(&[("a", "b"), ("b", "c"), ("c", "a"), ("c", "d")]));
    assert_eq!(found, vec![vec!["a", "b", "c", "a"]]);
}

#[test]
fn the_cycle_finder_finds_nothing_in_layers() {
    let found = cycles(&graph(&[("cli", "demo"), ("cli", "headline"), ("demo", "headline"), ("lib", "cli")]));
    assert!(found.is_empty(), "{found:?}");
}

fn sources(files: &[(&str, &str)]) -> Vec<ModuleSource> {
    files
        .iter()
        .map(|(path, text)| ModuleSource {
            path: if path.is_empty() { Vec::new() } else { path.split("::").map(str::to_owned).collect() },
            text: (*text).to_owned(),
        })
        .collect()
}

#[test]
fn the_module_graph_follows_crate_and_super_paths_but_not_tests() {
    let files = sources(&[
        ("", "pub mod rule; pub mod verdict; pub mod drift; pub type Tags = ();"),
        (
            "rule",
            "use crate::{Tags, verdict::{Outcome, Verdict as V}};\n#[cfg(test)]\nmod tests { use crate::drift::x; }",
        ),
        ("verdict", "use super::rule::Scale; // crate::drift::in_a_comment\nconst S: &str = \"crate::drift::x\";"),
        (
            "drift",
            "mod timing { fn f() { super::super::rule::judge(); } }\npub(crate) fn g<'a>(c: char) { let _ = '{'; }",
        ),
    ]);
    let found = graph_of(&files);
    assert_eq!(found["rule"], BTreeSet::from(["lib".to_owned(), "verdict".to_owned()]));
    assert_eq!(found["verdict"], BTreeSet::from(["rule".to_owned()]));
    assert_eq!(found["drift::timing"], BTreeSet::from(["rule".to_owned()]));
    assert!(found["drift"].is_empty() && found["lib"].is_empty(), "{found:?}");
    assert_eq!(cycles(&found), vec![vec!["rule", "verdict", "rule"]]);
}

#[test]
fn a_crate_root_names_its_children_by_bare_paths_except_when_re_exporting_them() {
    let files = sources(&[
        (
            "",
            "pub mod options; pub mod run; mod shard; mod summary;\n\
             pub use options::{RunOptions, defaults};\npub(crate) use summary::text;\n\
             use std::env::var; use deltaone::drift::decide;\n\
             fn go() { shard::scan(); let _ = Vec::<u8>::new(); }\n\
             #[cfg(test)]\nfn probe() { run::run(); }",
        ),
        ("options", "pub struct RunOptions;"),
        ("run", "use crate::RunOptions;"),
        ("shard", "pub fn scan() { let _ = crate::RunOptions; }"),
        ("summary", "pub fn text() {}"),
    ]);
    let found = graph_of(&files);
    assert_eq!(found["lib"], BTreeSet::from(["shard".to_owned()]), "{found:?}");
    assert_eq!(cycles(&found), vec![vec!["lib", "shard", "lib"]]);

    let facade = sources(&[
        ("", "pub mod options; pub mod run;\npub use run::run;\npub use self::options::RunOptions;"),
        ("options", "pub struct RunOptions;"),
        ("run", "use crate::RunOptions; pub fn run() {}"),
    ]);
    let found = graph_of(&facade);
    assert!(found["lib"].is_empty() && cycles(&found).is_empty(), "{found:?}");
}

#[test]
fn the_arrow_checks_read_renamed_target_and_dev_dependencies() {
    let manifest: toml::Table = r#"
        [dependencies]
        serde = "1"
        http-client = { package = "reqwest", version = "0.13" }
        [dev-dependencies]
        tokio = "1"
        [target.'cfg(unix)'.dependencies]
        aws-config = "1"
    "#
    .parse()
    .unwrap();
    let linked = dependencies(&manifest, Kinds::Linked);
    assert_eq!(linked, BTreeSet::from(["aws-config".to_owned(), "reqwest".to_owned(), "serde".to_owned()]));
    assert!(dependencies(&manifest, Kinds::All).contains("tokio"));
    let member = Member { name: "deltaone".to_owned(), dir: ".".to_owned(), manifest };
    let found = breaking(&[member], Kinds::All, |_| true, does_io);
    assert_eq!(found, vec!["deltaone -> aws-config", "deltaone -> reqwest", "deltaone -> tokio"]);
}
