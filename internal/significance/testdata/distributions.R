# Reference tail probabilities for the distributions the significance tests use, from R:
# 2 * pnorm(-|z|), pf(f, d1, d2, lower.tail = FALSE) and pchisq(x, df, lower.tail = FALSE).
# The F and chi-square points are placed at the quantiles of a list of p-values from 0.9 down
# to 1e-100, for the degrees of freedom our tests produce (non-integer Rao-Scott ndf, ddf up to
# d0 * (n - 1) for a panel of millions), so the Go code is checked where small p-values matter.
# Usage (from this folder): Rscript distributions.R [OUTJSON]   (default distributions.json)
suppressPackageStartupMessages(library(jsonlite))
args <- commandArgs(trailingOnly = TRUE)
out <- if (length(args) >= 1) args[1] else "distributions.json"
ps <- c(0.999, 0.9, 0.5, 0.05, 1e-3, 1e-6, 1e-10, 1e-15, 1e-20, 1e-50, 1e-100)

z <- c(0, 1e-8, 0.1, 0.5, 1, 1.959963984540054, 2.5, 3, 4, 5, 6, 7, 7.5, 8, 10, 12, 15, 20, 25, 30, 37)
normal <- data.frame(z = z, p = 2 * pnorm(-abs(z)))

fr <- list()
for (d1 in c(1, 2, 2.92315298661895, 4, 4.78000313035072, 6.70583737482414, 10, 50, 171.3)) {
  for (d2 in c(5, 30, 387.5, 1995, 2595.15906405694, 9555.22625757108, 1e5, 5e6, 2e7, 1e8, 1e9, 2e10, 1e12)) {
    f <- unique(c(qf(ps, d1, d2, lower.tail = FALSE), 0.01, 1))
    f <- f[is.finite(f) & f > 0]
    fr[[length(fr) + 1]] <- data.frame(f = f, d1 = d1, d2 = d2, p = pf(f, d1, d2, lower.tail = FALSE))
  }
}
fdist <- do.call(rbind, fr)

cr <- list()
for (df in c(1, 2, 3, 4, 6, 8, 20, 81, 500)) {
  x <- unique(c(qchisq(ps, df, lower.tail = FALSE), 0.01))
  x <- x[is.finite(x) & x > 0]
  cr[[length(cr) + 1]] <- data.frame(x = x, df = df, p = pchisq(x, df, lower.tail = FALSE))
}
chisq <- do.call(rbind, cr)

res <- list(about = "R reference tails: normal two-sided, F upper, chi-square upper (see distributions.R)",
            software = R.version.string, normal = normal, f = fdist, chisq = chisq)
writeLines(toJSON(res, digits = NA, auto_unbox = TRUE, dataframe = "rows"), out)
cat("wrote", out, nrow(normal), nrow(fdist), nrow(chisq), "\n")
