//! The change feed: one message per tab whose cells, size or metadata changed,
//! so a live view (the local stack's web grid) re-reads just that tab.

use serde::Serialize;

/// A tab changed. Read the tab again (`Emulator::cells`) to see how.
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Change {
    /// Increases by one per change across the emulator.
    pub revision: u64,
    pub spreadsheet_id: String,
    pub sheet_id: i32,
    /// The tab's title after the change.
    pub sheet: String,
    pub source: ChangeSource,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub enum ChangeSource {
    /// A Sheets API call (a client such as the writer).
    Api,
    /// The seed/inspect API (`Emulator` methods or `/_emulator/...`), e.g. a person's edit in a grid.
    Control,
}
