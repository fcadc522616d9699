//! `docs/models.md` carries every model's module doc, under the same headings, generated from
//! the model files themselves so the two never drift apart: this test fails when they differ
//! and, with `CLAB_BLESS=1`, rewrites the generated part.

use clab_server::Model;
use std::path::Path;

const BEGIN: &str = "<!-- generated from crates/server/src/models/*.rs by crates/server/tests/models_doc.rs: do not edit by hand -->";
const END: &str = "<!-- end of generated part -->";
/// The headings every model file's doc has, in order.
const HEADINGS: [&str; 5] = [
    "How it works",
    "What it demonstrates",
    "Where it breaks",
    "Knobs",
    "Shutdown",
];

/// One model's section: its `//!` doc, headings demoted under the model's own heading, and
/// rustdoc links turned into code spans.
fn section(model: Model, root: &Path) -> String {
    let file = format!("src/models/{}.rs", model.name().replace('-', "_"));
    let text = std::fs::read_to_string(root.join(&file)).expect("model file");
    let doc: Vec<&str> = text
        .lines()
        .take_while(|l| l.starts_with("//!"))
        .map(|l| {
            l.strip_prefix("//!")
                .unwrap_or(l)
                .strip_prefix(' ')
                .unwrap_or("")
        })
        .collect();
    let mut found = Vec::new();
    let mut out = format!("### `{}`\n\n", model.name());
    for line in doc {
        if let Some(h) = line.strip_prefix("# ") {
            found.push(h.to_owned());
            out.push_str(&format!("#### {h}\n"));
        } else {
            out.push_str(&line.replace("[`", "`").replace("`]", "`"));
            out.push('\n');
        }
    }
    assert_eq!(
        found, HEADINGS,
        "{file}: the doc headings every model file has"
    );
    out.push_str(&format!("\n(From `crates/server/{file}`.)\n\n"));
    out
}

#[test]
fn models_md_carries_every_model_doc() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let generated: String = Model::ALL.iter().map(|&m| section(m, root)).collect();
    let path = root.join("../../docs/models.md");
    let doc = std::fs::read_to_string(&path).expect("docs/models.md");
    let (Some(b), Some(e)) = (doc.find(BEGIN), doc.find(END)) else {
        panic!("docs/models.md lacks the generated-part markers");
    };
    let current = &doc[b + BEGIN.len()..e];
    let wanted = format!("\n\n{generated}");
    if current != wanted {
        if std::env::var_os("CLAB_BLESS").is_some() {
            let updated = format!("{}{BEGIN}{wanted}{}", &doc[..b], &doc[e..]);
            std::fs::write(&path, updated).expect("write docs/models.md");
        } else {
            panic!(
                "docs/models.md is out of date with the model files: run CLAB_BLESS=1 cargo test -p clab-server --test models_doc"
            );
        }
    }
}
