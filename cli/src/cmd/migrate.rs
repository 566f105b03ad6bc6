use crate::error::CmdResult;
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let client = global.connect().await?;
        let applied = sheetsync_store::migrate(&client).await?;
        if applied.is_empty() {
            println!(
                "database is up to date ({} migrations)",
                sheetsync_store::migrations().len()
            );
        }
        for m in applied {
            println!("applied {:04}_{}", m.version, m.name);
        }
        Ok(())
    }
}
