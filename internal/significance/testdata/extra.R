# More reference answers for the significance package, beyond the four cases of expected.json
# (which come from compute_significance.R): crosstabs with empty cells, a 2x2 table, a larger
# table on a filtered base, a singular table, a low-base column, a multi-response table (rows that
# overlap: one 0/1 indicator per row, no test of independence); means on a filtered base, a
# proportion (mean of a 0/1 indicator) and a low-base group. Same design and conventions as
# expected.json: svydesign(ids = ~1, weights = ~weight) over all 2,000 users of users.csv,
# filtered bases are subset() domains, columns sorted in C collation.
#
# For each crosstab: svyby(~I(R == k), ~G, d, svymean) and svytotal (cells), svymean and svytotal
# of I(R == k) over the base (Total column), z and two-sided normal p of every column pair, svychisq(~R + G, d) with statistic "F" and "Chisq" (null when R
# cannot compute it). For each mean: svyby(~y, ~G, d, svymean), pairs, and
# regTermTest(svyglm(y ~ factor(G), d), ~factor(G)).
# Usage (from this folder): Rscript extra.R [OUTJSON]   (default extra.json)
suppressPackageStartupMessages({ library(survey); library(jsonlite) })
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "extra.json"
users <- read.csv("users.csv", na.strings = "", stringsAsFactors = FALSE)
users <- users[order(users$user_id), ]
users$nccs_merged <- ifelse(users$nccs %in% c("A", "A1"), "A", ifelse(users$nccs %in% c("C", "D", "E"), "C/D/E", users$nccs))
users$premium <- as.numeric(users$subscription_type == "premium")
des <- svydesign(ids = ~1, weights = ~weight, data = users)
csort <- function(x) sort(unique(x), method = "radix")
sev <- function(b) as.vector(as.matrix(SE(b)))

# rows: named list of row label -> R condition (one 0/1 indicator per row); for a categorical row
# variable, one condition rv == k per category (rows exclusive); multi: rows may overlap.
xtab <- function(id, rv, gv, keep, filter, rows = NULL) {
  d <- if (all(keep)) des else subset(des, keep)
  u <- users[keep, ]
  glev <- csort(u[[gv]])
  if (is.null(rows)) rows <- setNames(lapply(csort(u[[rv]]), function(k) sprintf("%s == '%s'", rv, k)), csort(u[[rv]]))
  cells <- list(); pairs <- list(); totals <- list()
  for (k in names(rows)) {
    f <- as.formula(sprintf("~I(%s)", rows[[k]]))
    b <- svyby(f, as.formula(paste0("~", gv)), d, svymean)
    bt <- svyby(f, as.formula(paste0("~", gv)), d, svytotal)
    cn <- grep("TRUE$", names(coef(b)), value = TRUE); names(cn) <- sub(":I\\(.*$", "", cn)
    p <- coef(b)[cn[glev]]; se <- sev(b)[match(cn[glev], names(coef(b)))]
    tn <- grep("TRUE$", names(coef(bt)), value = TRUE); names(tn) <- sub(":I\\(.*$", "", tn)
    wc <- coef(bt)[tn[glev]]; sewc <- sev(bt)[match(tn[glev], names(coef(bt)))]
    cells[[k]] <- data.frame(row = k, group = glev, pct = 100 * unname(p), se_pct = 100 * se,
                             weighted_count = unname(wc), se_weighted_count = sewc)
    tm <- svymean(f, d); tt <- svytotal(f, d); ti <- grep("TRUE$", names(coef(tm)))
    totals[[k]] <- data.frame(row = k, pct = 100 * unname(coef(tm)[ti]), se_pct = 100 * unname(SE(tm)[ti]),
                              weighted_count = unname(coef(tt)[ti]), se_weighted_count = unname(SE(tt)[ti]))
    for (i in seq_along(glev)) for (j in seq_along(glev)) if (i < j) {
      sd <- sqrt(se[i]^2 + se[j]^2); z <- if (sd > 0) unname((p[i] - p[j]) / sd) else NA
      pairs[[length(pairs) + 1]] <- data.frame(row = k, g = glev[i], h = glev[j], z = z, p = 2 * pnorm(-abs(z)))
    }
  }
  ov <- if (!is.null(rv)) tryCatch({
    sF <- svychisq(as.formula(sprintf("~%s + %s", rv, gv)), d)
    sC <- svychisq(as.formula(sprintf("~%s + %s", rv, gv)), d, statistic = "Chisq")
    list(F = unname(sF$statistic), ndf = unname(sF$parameter[1]), ddf = unname(sF$parameter[2]), p = sF$p.value,
         chisq = list(X2_pearson = unname(sC$statistic), df = unname(sC$parameter[1]), p = sC$p.value))
  }, error = function(e) list(error = conditionMessage(e))) else list(error = "rows are not exclusive")
  list(id = id, kind = if (is.null(rv)) "multi" else "crosstab", row_variable = rv, rows = rows, group_variable = gv, filter = filter,
       groups = data.frame(group = glev, n = as.integer(table(u[[gv]])[glev])),
       cells = do.call(rbind, unname(cells)), pairs = do.call(rbind, pairs), totals = do.call(rbind, unname(totals)), overall_test = ov)
}

means <- function(id, yv, gv, keep, filter) {
  d <- if (all(keep)) des else subset(des, keep)
  u <- users[keep, ]
  glev <- csort(u[[gv]])
  b <- svyby(as.formula(paste0("~", yv)), as.formula(paste0("~", gv)), d, svymean)
  m <- setNames(coef(b), as.character(b[[gv]]))[glev]; se <- setNames(sev(b), as.character(b[[gv]]))[glev]
  pairs <- list()
  for (i in seq_along(glev)) for (j in seq_along(glev)) if (i < j) {
    z <- unname((m[i] - m[j]) / sqrt(se[i]^2 + se[j]^2))
    pairs[[length(pairs) + 1]] <- data.frame(g = glev[i], h = glev[j], z = z, p = 2 * pnorm(-abs(z)))
  }
  rt <- regTermTest(svyglm(as.formula(sprintf("%s ~ factor(%s)", yv, gv)), d), as.formula(sprintf("~factor(%s)", gv)))
  tot <- svymean(as.formula(paste0("~", yv)), d)
  list(id = id, kind = "means", y_variable = yv, group_variable = gv, filter = filter,
       groups = data.frame(group = glev, n = as.integer(table(u[[gv]])[glev])),
       cells = data.frame(group = glev, mean = unname(m), se = unname(se)),
       pairs = do.call(rbind, pairs),
       totals = list(mean = unname(coef(tot)), se = as.numeric(SE(tot))),
       overall_test = list(F = as.numeric(rt$Ftest), ndf = as.numeric(rt$df), ddf = as.numeric(rt$ddf), p = as.numeric(rt$p)))
}

all <- rep(TRUE, nrow(users))
cases <- list(
  xtab("device_by_platform_empty_cells", "device_type", "platform", all, "none (empty cells, tiny p)"),
  xtab("nccs_raw_by_age_group_metro", "nccs", "age_group", users$town_class == "Metro" & !is.na(users$nccs), "town_class = 'Metro' AND nccs IS NOT NULL"),
  xtab("spend_quartile_by_gender_low_base", "spend_quartile", "gender", all, "none (gender Other n = 26)"),
  xtab("state_by_town_class_singular", "state", "town_class", all, "none (svychisq cannot solve)"),
  xtab("platform_by_gender_mobile_2x2", "platform", "gender", users$device_type == "mobile" & users$gender != "Other", "device_type = 'mobile' AND gender <> 'Other'"),
  xtab("multi_response_by_town_class", NULL, "town_class", users$age_group != "55+", "age_group <> '55+' (rows overlap: one 0/1 indicator each)",
       rows = list(premium = "subscription_type == 'premium'", mobile = "device_type == 'mobile'", spend_q4 = "spend_quartile == 'Q4'", ios = "platform == 'ios'")),
  means("mean_age_by_nccs_tier2", "age", "nccs_merged", users$town_class == "Tier 2" & !is.na(users$nccs_merged), "town_class = 'Tier 2' AND nccs IS NOT NULL"),
  means("premium_share_by_town_class", "premium", "town_class", all, "none (mean of a 0/1 indicator)"),
  means("mean_spend_by_gender_low_base", "total_spend", "gender", all, "none (gender Other n = 26)"))
res <- list(about = "More R survey answers for internal/significance (see extra.R)", software = list(R = R.version.string, survey = as.character(packageVersion("survey"))),
            n_design = nrow(users), cases = cases)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, pretty = 1, dataframe = "rows", na = "null", null = "null"), out)
cat("wrote", out, "\n")
