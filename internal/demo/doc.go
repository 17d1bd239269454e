// Package demo generates the demo data of mcp-analytics: a deterministic,
// realistic synthetic consumer panel that the server writes into embedded
// DuckDB on first start ([WriteDuckDB]) and that `mcp-analytics demo load`
// writes into PostgreSQL with COPY ([WritePostgres]). Every SQL example of
// the original system's documentation runs on it as written, in both
// engines, but one that no table with an age_group column can run: it
// groups a CASE aliased age_group by "GROUP BY age_group", which both
// engines resolve to the column rather than the alias (GROUP BY 1 runs).
//
// [Generate] returns two datasets.
//
// Dataset 1, "Sample Dataset", is an Indian smartphone panel: 20,000
// panelists aged 15-70 by default.
//
//   - users: one row per panelist, with the projection weight and the
//     panelist's gender, age and age_group (15-24, 25-34, 35-44, 45-54, 55+),
//     nccs (A1, A, B, C, D, E and a handful of NULLs), city, state and
//     town_class (Metro, Tier 1, Tier 2, Rural; 8 metros, 30 other cities and
//     "Rural <state>" areas of 14 states), device_type, platform,
//     subscription_type, total_spend (the sum of the panelist's orders) with
//     its spend_quartile (Q1-Q4, equal-sized), last_active_date and
//     signup_date.
//   - app_usage: about 200,000 app sessions (user_id, app_name,
//     usage_minutes, event_date) over the last three months or so, for
//     13 apps whose reach differs as in life: WhatsApp and YouTube reach
//     nearly everyone, Instagram and Snapchat skew young, Facebook older,
//     Netflix and Amazon affluent, ShareChat small-town. Most panelists are
//     active throughout; a fifth lapse during the period and as many come
//     back, so about three in four were active in the last 30 days.
//   - orders: about 50,000 online orders (order_id, user_id, amount,
//     order_date, category) over the last year, from the panelists' order
//     histories (so also before their signup_date); affluent panelists
//     order more and spend more, and about one in five never orders.
//
// Dataset 2, "Streaming Panel", is a connected-TV panel with a quarter as
// many panelists: users (the same demographics, with device_type smart_tv,
// streaming_stick or set_top_box and the matching platform) and about
// 50,000 viewing events (play, pause, resume, search, browse, ad_impression,
// purchase) with content_genre, watch_minutes and an event_time that peaks
// at evening prime time.
//
// Weights are in thousands of people and are cell weights, as real panels
// have: every panelist of one age_group × gender × nccs × town_class cell
// carries the same weight, raked so that the weighted panel matches the
// population by town_class × nccs, by age_group and by gender, and the
// weights of a dataset sum to its universe (600 million smartphone users;
// 120 million people in connected-TV homes). The panel over-recruits metros and the
// affluent NCCS classes, as real panels do, so those panelists get small
// weights and rural, NCCS C/D/E panelists large ones: weighted and unweighted
// figures visibly differ. Event tables carry no weight; they are weighted
// through users on user_id.
//
// Event volume behaves like a panel's: flat from day to day but for a
// weekly rhythm (weekends busier), so a month-on-month trend moves by the
// calendar (28 against 31 days, four or five weekends), within ±15 % for
// whole months, never as a collapse. Each event table's period starts on
// the first of a month (app usage and viewing: the month that holds the
// day 89 days back; orders: 364 days back), so its first month is whole;
// it ends on the anchor, so the anchor's own month is partial unless the
// anchor is a month's last day (answers say so, see package analysis).
//
// The data are deterministic: the same [Options] give the same values, byte
// for byte ([Dataset.Checksum]), drawn from math/rand/v2's PCG generator
// with one stream per dataset for the panelists and one per event table.
// Dates are relative to [Options].Anchor, the last day of the period, so
// questions such as "active in the last 30 days" work when the caller
// passes today's date.
package demo
