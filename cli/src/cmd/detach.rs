use crate::error::CmdResult;
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The binding to detach
    #[arg(long, value_name = "NAME")]
    binding: String,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let client = global.connect().await?;
        sheetsync_store::detach(&client, &self.binding).await?;
        println!("detached {}", self.binding);
        Ok(())
    }
}
