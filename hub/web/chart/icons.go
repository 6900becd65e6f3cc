package chart

import (
	"fmt"
	"html"
	"html/template"
)

// icon is one Making Data Count icon: its letter, its class (the colour)
// and what it means in words.
type icon struct{ letter, class, label string }

// variationIcons are the variation icons by the name the share publishes.
func variationIcons() map[string]icon {
	return map[string]icon{
		"common_cause":     {"~", "common", "Common cause variation"},
		"improvement_high": {"H", "improvement", "Special cause variation: improvement, higher values"},
		"improvement_low":  {"L", "improvement", "Special cause variation: improvement, lower values"},
		"concern_high":     {"H", "concern", "Special cause variation: concern, higher values"},
		"concern_low":      {"L", "concern", "Special cause variation: concern, lower values"},
		"neutral_high":     {"H", "neutral", "Special cause variation: higher values, neither better nor worse"},
		"neutral_low":      {"L", "neutral", "Special cause variation: lower values, neither better nor worse"},
		"suppressed":       {"S", "suppressed", "Not shown: the latest value is suppressed"},
	}
}

// assuranceIcons are the assurance icons by the name the share publishes.
func assuranceIcons() map[string]icon {
	return map[string]icon{
		"consistent_pass": {"P", "improvement", "Assurance: the target will consistently be met"},
		"consistent_fail": {"F", "concern", "Assurance: the target will consistently be missed"},
		"inconsistent":    {"?", "common", "Assurance: the target will sometimes be met and sometimes missed"},
		"suppressed":      {"S", "suppressed", "Assurance not shown: the latest value is suppressed"},
		"":                {"–", "none", "No assurance: the measure has no target"},
	}
}

// VariationLabel says what a variation icon means, in words.
func VariationLabel(name string) string { return lookup(variationIcons(), name).label }

// AssuranceLabel says what an assurance icon means, in words.
func AssuranceLabel(name string) string { return lookup(assuranceIcons(), name).label }

// VariationIcon draws the variation icon name (e.g. "improvement_high") as
// a small inline SVG: a circle with a letter, so it reads in greyscale.
func VariationIcon(name string) template.HTML {
	return iconSVG("variation", lookup(variationIcons(), name))
}

// AssuranceIcon draws the assurance icon name (e.g. "consistent_fail").
func AssuranceIcon(name string) template.HTML {
	return iconSVG("assurance", lookup(assuranceIcons(), name))
}

func lookup(icons map[string]icon, name string) icon {
	if ic, ok := icons[name]; ok {
		return ic
	}
	return icon{"?", "none", "Unknown: " + name}
}

func iconSVG(kind string, ic icon) template.HTML {
	s := fmt.Sprintf(`<svg class="icon %s icon-%s" role="img" viewBox="0 0 24 24" width="24" height="24" xmlns="http://www.w3.org/2000/svg" aria-label="%s">`+
		`<circle cx="12" cy="12" r="10.5"/><text x="12" y="12" text-anchor="middle" dominant-baseline="central">%s</text></svg>`,
		kind, ic.class, html.EscapeString(ic.label), html.EscapeString(ic.letter))
	return template.HTML(s) //nolint:gosec // built from escaped constants
}
