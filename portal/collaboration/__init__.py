"""Starting and ending online collaboration: offers, who pays, export, block, leave, purge."""
