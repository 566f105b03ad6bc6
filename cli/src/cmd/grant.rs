//! `sheetsync grant --binding B --role R`: gives the functions' role what
//! it needs on an attached binding's table (as `attach --grant-to` does, for
//! bindings attached before); `detach` revokes it.

use crate::error::CmdResult;
use crate::global::Global;

#[derive(clap::Args)]
pub struct Args {
    /// The binding whose table the role gets
    #[arg(long, value_name = "NAME")]
    binding: String,
    /// The role the functions log in as
    #[arg(long, env = "SHEETSYNC_FUNCTION_ROLE", value_name = "ROLE")]
    role: String,
}

impl Args {
    pub async fn run(self, global: &Global) -> CmdResult {
        let client = global.connect().await?;
        sheetsync_store::grant(&client, &self.binding, &self.role).await?;
        println!("granted binding {} to role {}", self.binding, self.role);
        Ok(())
    }
}
