-- Several hubs on one cluster each extend a chain of their own in the decision audit: chain names
-- it (empty: the one hub's chain, as before). A row's hash covers its chain when it has one, so a
-- row moved from one chain to another no longer matches. `pathwayhub audit verify` checks every
-- chain.
ALTER TABLE ${db}.decisions ADD COLUMN chain String;
