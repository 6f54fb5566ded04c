-- study/journal/sql/official.sql
-- The accounts that speak for a brand: the handle of every probe of that brand in the
-- journal (a local target's and the brand's global account) and the further accounts that
-- targets.csv's `answers_from` names for it (e.g. a support account that answers probes sent
-- to the brand's main one), lower case, without a leading '@'.
-- Input: relations probes(brand, handle) and answers_from(brand, account). Included in a
-- WITH list (`-- include: official`) by responses.sql and analysis/sql/publish_exchanges.sql.
official AS (
    SELECT DISTINCT brand, lower(ltrim(handle, '@')) AS account
    FROM probes
    WHERE handle <> ''
    UNION
    SELECT brand, lower(ltrim(account, '@')) AS account
    FROM answers_from
    WHERE account <> ''
)
