# Generates the RC (ratio of counts) reference cases rc_*.json in this
# folder: synthetic counts drawn with fixed seeds, passed to
# FunnelPlotR::funnel_plot(data_type = "RC"), and written with what it
# returned in the layout described in README.md.
#
# Run from this folder, with FunnelPlotR 0.6.0 installed in the library
# named by R_LIBS (see README.md for the exact version and setup):
#
#   R_LIBS=/tmp/rlib Rscript generate_rc.R
#
# Numbers are written in the shortest decimal form that reads back as the
# same double; NA is written as null.

suppressPackageStartupMessages(library(FunnelPlotR))

git_commit <- "9020d4972873d863e10b8a16555975f0e322adfc"

# ---- JSON writing ----------------------------------------------------------

# A vector to be written as a JSON array even when it has one element.
json_array <- function(x) structure(list(x), class = "json_array")

json_string <- function(s) {
  s <- gsub("\\", "\\\\", s, fixed = TRUE)
  s <- gsub("\"", "\\\"", s, fixed = TRUE)
  s <- gsub("\n", "\\n", s, fixed = TRUE)
  s <- gsub("\t", "\\t", s, fixed = TRUE)
  paste0("\"", s, "\"")
}

# Shortest decimal that reads back as the same double: whole numbers
# without a fraction, others with the fewest significant digits that
# round-trip.
json_number <- function(x) {
  if (!is.finite(x)) stop("cannot write non-finite number ", x)
  if (x == round(x) && abs(x) < 1e15) {
    return(sprintf("%.0f", x))
  }
  for (d in 1:17) {
    s <- sprintf("%.*g", d, x)
    if (as.numeric(s) == x) return(s)
  }
  sprintf("%.17g", x)
}

json_scalar <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (length(x) != 1) stop("scalar expected, got length ", length(x))
  if (is.na(x)) return("null")
  if (is.logical(x)) return(if (x) "true" else "false")
  if (is.character(x)) return(json_string(x))
  json_number(x)
}

# Arrays of scalars are written on one line: strings separated by ", ",
# numbers by ",".
json_inline <- function(x) {
  if (is.factor(x)) x <- as.character(x)
  if (length(x) == 0) return("[]")
  parts <- vapply(seq_along(x), function(i) json_scalar(x[i]), "")
  paste0("[", paste(parts, collapse = if (is.character(x)) ", " else ","), "]")
}

json_value <- function(x, indent) {
  pad <- strrep("  ", indent + 1)
  if (inherits(x, "json_array")) return(json_inline(x[[1]]))
  if (is.list(x) && !is.null(names(x))) {
    if (length(x) == 0) return("{}")
    items <- vapply(names(x), function(k) {
      paste0(pad, json_string(k), ": ", json_value(x[[k]], indent + 1))
    }, "")
    return(paste0("{\n", paste(items, collapse = ",\n"), "\n", strrep("  ", indent), "}"))
  }
  if (is.list(x)) {
    if (length(x) == 0) return("[]")
    items <- vapply(x, function(v) paste0(pad, json_value(v, indent + 1)), "")
    return(paste0("[\n", paste(items, collapse = ",\n"), "\n", strrep("  ", indent), "]"))
  }
  json_scalar(x)
}

# ---- running one case ------------------------------------------------------

r_literal <- function(v) {
  if (is.character(v)) return(paste0("\"", v, "\""))
  if (is.logical(v)) return(if (v) "TRUE" else "FALSE")
  json_number(v)
}

effective_options <- function(passed) {
  eff <- list(data_type = "SR", limit = 99, draw_adjusted = TRUE,
              draw_unadjusted = FALSE, sr_method = "SHMI", trim_by = 0.1,
              multiplier = 1, SHMI_rounding = TRUE)
  for (k in names(passed)) eff[[k]] <- passed[[k]]
  eff
}

clean_message <- function(m) trimws(gsub("\\s+", " ", m))

run_case <- function(case_id, description, seed, group, numerator, denominator,
                     options_passed) {
  df <- data.frame(group = group, numerator = numerator,
                   denominator = denominator)
  args <- vapply(names(options_passed), function(k) {
    paste0(k, " = ", r_literal(options_passed[[k]]))
  }, "")
  r_call <- paste0("funnel_plot(df, numerator = numerator, ",
                   "denominator = denominator, group = group, ",
                   paste(args, collapse = ", "), ")")

  messages <- character(0)
  warnings <- character(0)
  fp <- withCallingHandlers(
    eval(parse(text = r_call)),
    message = function(m) {
      messages <<- c(messages, clean_message(conditionMessage(m)))
      invokeRestart("muffleMessage")
    },
    warning = function(w) {
      warnings <<- c(warnings, clean_message(conditionMessage(w)))
      invokeRestart("muffleWarning")
    }
  )

  agg <- fp$aggregated_data
  agg <- agg[order(as.character(agg$group)), ]
  units <- lapply(seq_len(nrow(agg)), function(i) {
    row <- lapply(names(agg), function(k) agg[[k]][i])
    names(row) <- names(agg)
    row
  })
  outliers <- sort(as.character(agg$group[agg$outlier == 1]))

  out <- list(
    case_id = case_id,
    kind = "funnel",
    description = description,
    package = list(
      name = "FunnelPlotR",
      version = "0.6.0",
      git_commit = git_commit,
      installed_version = as.character(packageVersion("FunnelPlotR")),
      r_version = R.version.string,
      ggplot2_version = as.character(packageVersion("ggplot2"))
    ),
    input = list(
      group = json_array(group),
      numerator = json_array(numerator),
      denominator = json_array(denominator),
      options_passed = options_passed,
      options_effective = effective_options(options_passed),
      seed = seed,
      r_call = r_call
    ),
    output = list(
      target = sum(agg$numerator) / sum(agg$denominator),
      phi = fp$phi,
      tau2 = fp$tau2,
      draw_adjusted = fp$draw_adjusted,
      draw_unadjusted = fp$draw_unadjusted,
      n_units = nrow(agg),
      n_outliers = length(outliers),
      outlier_groups = json_array(outliers),
      units = units,
      messages = json_array(messages),
      warnings = json_array(warnings)
    ),
    split = "shared"
  )
  writeLines(json_value(out, 0), paste0(case_id, ".json"))
  cat(sprintf("%s: %d units, phi %.4g, tau2 %.4g, draw_adjusted %s, %d outliers\n",
              case_id, nrow(agg), fp$phi, fp$tau2, fp$draw_adjusted,
              length(outliers)))
}

ids <- function(prefix, n) sprintf("%s%02d", prefix, seq_len(n))

# ---- the cases -------------------------------------------------------------

# 10 units, both counts Poisson around a common ratio: unadjusted limits.
set.seed(2101)
den <- round(runif(10, 50, 500))
num <- rpois(10, 0.9 * den)
run_case("rc_10_units_unadjusted",
         paste("10 units, denominator counts U(50,500), numerators Poisson(0.9 x denominator);",
               "draw_adjusted = FALSE, draw_unadjusted = TRUE: unadjusted limits, phi and tau2 reported as 0"),
         2101, ids("U", 10), num, den,
         list(data_type = "RC", draw_adjusted = FALSE, draw_unadjusted = TRUE))

# 20 over-dispersed units: the ratio varies between units.
set.seed(2102)
den <- round(runif(20, 100, 2000))
num <- rpois(20, 1.2 * den * exp(rnorm(20, 0, 0.25)))
run_case("rc_20_units_od_adjusted",
         paste("20 units, denominator counts U(100,2000), numerators Poisson(1.2 x denominator x exp(N(0, 0.25))):",
               "over-dispersed; draw_adjusted default TRUE"),
         2102, ids("U", 20), num, den,
         list(data_type = "RC"))

# 44 synthetic police forces: detentions per 100,000 residents against the
# national rate.
set.seed(2103)
den <- round(exp(runif(44, log(3e5), log(3.5e6))))
num <- rpois(44, den * 60e-5 * exp(rnorm(44, 0, 0.3)))
run_case("rc_44_forces_per_100k",
         paste("44 synthetic police forces: numerator detentions, denominator residents (300,000-3,500,000, log-uniform),",
               "detentions Poisson(residents x 60/100,000 x exp(N(0, 0.3))); multiplier = 100000,",
               "so values and limits are detentions per 100,000 residents against the national rate; draw_adjusted default TRUE"),
         2103, ids("F", 44), num, den,
         list(data_type = "RC", multiplier = 100000))

# 30 units judged at 95%, one with no events (the 0.5 continuity correction).
set.seed(2104)
den <- round(runif(30, 20, 800))
num <- rpois(30, 0.5 * den * exp(rnorm(30, 0, 0.15)))
num[7] <- 0
run_case("rc_limit95",
         paste("30 units, denominator counts U(20,800), numerators Poisson(0.5 x denominator x exp(N(0, 0.15))),",
               "U07 set to 0 events (continuity correction in the z-score); limit = 95, draw_adjusted default TRUE"),
         2104, ids("U", 30), num, den,
         list(data_type = "RC", limit = 95))
