//! Lambda artifact sizes, as `cargo lambda build --release --output-format zip` left them.

use std::path::Path;

const FUNCTIONS: [&str; 3] = ["sheet-webhook", "outbox-relay", "sheet-writer"];

pub fn rows(root: &Path) -> String {
    FUNCTIONS
        .iter()
        .map(|f| {
            let zip = root.join("target/lambda").join(f).join("bootstrap.zip");
            let size = std::fs::metadata(&zip).map_or("not built".to_string(), |m| {
                format!("{:.2} MiB", m.len() as f64 / 1024.0 / 1024.0)
            });
            format!("| Lambda artifact `{f}` (target/lambda/{f}/bootstrap.zip, as last built) | {size} | |\n")
        })
        .collect()
}
