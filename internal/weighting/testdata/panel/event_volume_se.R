# Standard errors of projected event volume (COUNT(*) over app_usage, weighted through
# users.weight) for the reference panel in this folder, as R's survey package gives them:
# the volume of app k is svytotal(~y_k, des), y_k = the panelist's number of k events
# (0 for panelists without any), des = svydesign(ids = ~1, weights = ~weight).
# Usage (from this folder): Rscript event_volume_se.R > event_volume_se.json
suppressPackageStartupMessages({ library(survey); library(jsonlite) })
users <- read.csv("users.csv", na.strings = "", stringsAsFactors = FALSE)
events <- read.csv("app_usage.csv", stringsAsFactors = FALSE)
apps <- sort(unique(events$app_name), method = "radix")
counts <- table(factor(events$user_id, levels = users$user_id), factor(events$app_name, levels = apps))
for (a in apps) users[[paste0("y_", a)]] <- as.numeric(counts[, a])
des <- svydesign(ids = ~1, weights = ~weight, data = users)
out <- lapply(apps, function(a) {
  t <- svytotal(as.formula(paste0("~`y_", a, "`")), des)
  list(app_name = a, weighted_count = unname(coef(t)), se_weighted_count = unname(SE(t)[1]))
})
all <- svytotal(~I(rowSums(counts)), des)
cat(toJSON(list(
  about = "svytotal of each panelist's event count per app (and over all apps), svydesign(ids=~1, weights=~weight); weights in thousands",
  by_app = out,
  all = list(weighted_count = unname(coef(all)), se_weighted_count = unname(SE(all)[1]))
), auto_unbox = TRUE, digits = NA, pretty = TRUE))
