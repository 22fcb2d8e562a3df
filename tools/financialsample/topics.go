package main

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
)

// passage is one paragraph of a filing with the questions it answers.
type passage struct {
	Section string // the 10-K item it belongs to
	Text    string
	QAs     []qa
}

// gen holds the random source; every choice goes through it in a fixed order, so a seed fixes the output.
type gen struct {
	r *rand.Rand
	// nameRate is the probability that a passage names the company rather than saying "we".
	nameRate float64
}

func (g *gen) pick(options ...string) string { return options[g.r.IntN(len(options))] }

func (g *gen) named() bool { return g.r.Float64() < g.nameRate }

// money writes $ millions as "$842 million" or "$2.85 billion".
func money(m float64) string {
	if m >= 1000 {
		s := strconv.FormatFloat(m/1000, 'f', 2, 64)
		s = strings.TrimSuffix(strings.TrimSuffix(s, "0"), ".0")
		return "$" + s + " billion"
	}
	return "$" + thousands(int(m+0.5)) + " million"
}

// moneyExact writes $ millions with separators: "$2,847 million".
func moneyExact(m float64) string { return "$" + thousands(int(m+0.5)) + " million" }

func thousands(n int) string {
	s := strconv.Itoa(n)
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	return b.String()
}

func pct1(x float64) string { return strconv.FormatFloat(x, 'f', 1, 64) + "%" }

func list(items []string) string {
	switch len(items) {
	case 0:
		return ""
	case 1:
		return items[0]
	case 2:
		return items[0] + " and " + items[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " and " + items[len(items)-1]
}

func segNames(c company) []string {
	var out []string
	for _, s := range c.Segments {
		out = append(out, s.Name)
	}
	return out
}

// poss is the company's possessive: "Halvorsen Marine's".
func poss(name string) string {
	if strings.HasSuffix(name, "s") {
		return name + "'"
	}
	return name + "'s"
}

// topics returns the company's passages in filing order.
func (g *gen) topics(c company) []passage {
	var ps []passage
	add := func(p passage) { ps = append(ps, p) }
	s := c.Short
	n := len(c.Segments)

	// Item 1. Business: overview.
	{
		// Item 1 of a 10-K always names the registrant.
		var text string
		if g.r.IntN(2) == 0 {
			text = fmt.Sprintf("%s (\"%s\", the \"Company\") was founded in %d and is headquartered in %s, %s. We %s. "+
				"Our operations are organized into %s reportable segments: %s.", c.Name, s, c.Founded, c.City, c.State, c.Does, word(n), list(segNames(c)))
		} else {
			text = fmt.Sprintf("%s (\"%s\") was incorporated in %d. Our business is to %s. Our principal executive offices are located in %s, %s, "+
				"and we report our results through %s segments: %s.", c.Name, s, c.Founded, c.Does, c.City, c.State, word(n), list(segNames(c)))
		}
		add(passage{"Item 1. Business", text, []qa{
			{fmt.Sprintf("Where is %s headquartered?", s), fmt.Sprintf("%s is headquartered in %s, %s.", s, c.City, c.State)},
			{fmt.Sprintf("In which city does %s keep its main office?", s), fmt.Sprintf("Its principal executive offices are in %s, %s.", c.City, c.State)},
			{fmt.Sprintf("When was %s established?", s), fmt.Sprintf("%s was founded in %d.", s, c.Founded)},
			{fmt.Sprintf("What line of business is %s in?", s), fmt.Sprintf("%s's business is to %s.", s, c.Does)},
		}})
	}
	// Segments.
	{
		var b strings.Builder
		seg := c.Segments
		if g.named() {
			fmt.Fprintf(&b, "%s manages its business through %s segments. ", s, word(n))
		}
		fmt.Fprintf(&b, "Our %s segment generated %d%% of fiscal 2023 revenue and %s. ", seg[0].Name, seg[0].Share, seg[0].Desc)
		fmt.Fprintf(&b, "The %s segment, %d%% of revenue, %s.", seg[1].Name, seg[1].Share, seg[1].Desc)
		if n > 2 {
			fmt.Fprintf(&b, " The %s segment accounted for the remaining %d%% and %s.", seg[2].Name, seg[2].Share, seg[2].Desc)
		}
		add(passage{"Item 1. Business", b.String(), []qa{
			{fmt.Sprintf("Which segment generated the largest share of %s revenue in fiscal 2023?", poss(s)),
				fmt.Sprintf("The %s segment, with %d%% of revenue.", seg[0].Name, seg[0].Share)},
			{fmt.Sprintf("What portion of %s sales came from its %s business?", poss(s), seg[1].Name),
				fmt.Sprintf("The %s segment contributed %d%% of revenue.", seg[1].Name, seg[1].Share)},
			{fmt.Sprintf("How is %s divided up for reporting purposes?", s),
				fmt.Sprintf("Into %s segments: %s.", word(n), list(segNames(c)))},
		}})
	}
	// Products.
	{
		var text string
		if g.named() {
			text = fmt.Sprintf("%s product portfolio includes %s. %s, introduced in %d, %s.", poss(s), list(c.Products), c.Products[0], c.P1Year, c.P1Desc)
		} else {
			text = fmt.Sprintf("Our principal %s are sold under the %s brands. %s, first introduced in %d, %s.", c.ProductNoun, list(c.Products), c.Products[0], c.P1Year, c.P1Desc)
		}
		add(passage{"Item 1. Business", text, []qa{
			{fmt.Sprintf("What products does %s sell?", s), fmt.Sprintf("%s sells %s under brands including %s.", s, c.ProductNoun, list(c.Products))},
			{fmt.Sprintf("What is %s?", c.Products[0]), fmt.Sprintf("%s %s.", c.Products[0], c.P1Desc)},
			{fmt.Sprintf("Which brands make up %s lineup?", poss(s)), fmt.Sprintf("Its brands include %s.", list(c.Products))},
			{fmt.Sprintf("When did %s launch its %s offering?", s, c.Products[0]), fmt.Sprintf("%s was introduced in %d.", c.Products[0], c.P1Year)},
		}})
	}
	// Customers.
	{
		var text string
		var qas []qa
		if c.TopCustomerPct == 0 {
			text = fmt.Sprintf("Our customers include %s. No single customer accounted for more than 10%% of revenue in fiscal 2023", c.CustomerNoun)
			if c.Top10Pct > 0 {
				text += fmt.Sprintf(", and our ten largest customers together represented %d%% of revenue.", c.Top10Pct)
			} else {
				text += ", and our sales are spread across a large number of individual shoppers."
			}
			qas = []qa{
				{fmt.Sprintf("Does any single customer account for more than 10%% of %s revenue?", poss(s)), "No single customer accounted for more than 10% of revenue in fiscal 2023."},
				{fmt.Sprintf("How dependent is %s on its biggest client?", s), fmt.Sprintf("Not very: no customer exceeded 10%% of %s revenue.", poss(s))},
				{fmt.Sprintf("Who buys from %s?", s), fmt.Sprintf("%s customers include %s.", poss(s), c.CustomerNoun)},
			}
		} else {
			subj := "Our customers"
			if g.named() {
				subj = poss(s) + " customers"
			}
			text = fmt.Sprintf("%s include %s. Sales to %s, our largest customer, represented approximately %d%% of total revenue in fiscal 2023, "+
				"and our ten largest customers together accounted for %d%%. The loss of a major customer could materially reduce our revenue.",
				subj, c.CustomerNoun, c.TopCustomer, c.TopCustomerPct, c.Top10Pct)
			qas = []qa{
				{fmt.Sprintf("Who is %s largest customer?", poss(s)), fmt.Sprintf("%s, at about %d%% of revenue.", c.TopCustomer, c.TopCustomerPct)},
				{fmt.Sprintf("How dependent is %s on its biggest client?", s), fmt.Sprintf("%s represented approximately %d%% of revenue in fiscal 2023.", c.TopCustomer, c.TopCustomerPct)},
				{fmt.Sprintf("What share of %s business comes from its top ten accounts?", poss(s)), fmt.Sprintf("The ten largest customers accounted for %d%% of revenue.", c.Top10Pct)},
			}
		}
		add(passage{"Item 1. Business", text, qas})
	}
	// Competition.
	{
		var text string
		if g.named() {
			text = fmt.Sprintf("The markets for %s %s are highly competitive. %s competes primarily with %s and %s, as well as a number of smaller regional companies. "+
				"Competition is based mainly on %s.", poss(s), c.ProductNoun, s, c.Competitors[0], c.Competitors[1], c.CompeteBasis)
		} else {
			text = fmt.Sprintf("We face intense competition. Our principal competitors are %s and %s, and new entrants regularly appear in our markets. "+
				"We compete on the basis of %s.", c.Competitors[0], c.Competitors[1], c.CompeteBasis)
		}
		add(passage{"Item 1. Business", text, []qa{
			{fmt.Sprintf("Who are %s main competitors?", poss(s)), fmt.Sprintf("%s and %s.", c.Competitors[0], c.Competitors[1])},
			{fmt.Sprintf("Which rivals does %s go up against?", s), fmt.Sprintf("Its principal rivals are %s and %s.", c.Competitors[0], c.Competitors[1])},
			{fmt.Sprintf("On what factors do firms compete in %s market?", poss(s)), fmt.Sprintf("Competition is based on %s.", c.CompeteBasis)},
		}})
	}
	// Seasonality.
	if c.Season != nil {
		quarter := "the " + c.Season.Best + " quarter has"
		if strings.Contains(c.Season.Best, " and ") {
			quarter = "the " + c.Season.Best + " quarters have"
		}
		var text string
		if g.named() {
			text = fmt.Sprintf("%s business is seasonal. Historically %s generated the largest share of net sales, reflecting %s, and %s has been the weakest.",
				poss(s), quarter, c.Season.Reason, c.Season.Weak)
		} else {
			text = fmt.Sprintf("Our results vary from quarter to quarter. Historically %s generated our highest net sales because of %s, while %s has typically been the slowest.",
				quarter, c.Season.Reason, c.Season.Weak)
		}
		add(passage{"Item 1. Business", text, []qa{
			{fmt.Sprintf("Is %s business seasonal?", poss(s)), fmt.Sprintf("Yes; the %s quarter is usually strongest, reflecting %s.", c.Season.Best, c.Season.Reason)},
			{fmt.Sprintf("Which part of the year brings %s the most sales?", s), fmt.Sprintf("The %s quarter, because of %s.", c.Season.Best, c.Season.Reason)},
			{fmt.Sprintf("When are %s slowest months?", poss(s)), fmt.Sprintf("Sales are typically weakest in %s.", c.Season.Weak)},
		}})
	}
	// Human capital.
	{
		var text string
		var third qa
		if g.r.IntN(2) == 0 {
			union := 5 + g.r.IntN(30)
			subj := "we employed"
			if g.named() {
				subj = s + " employed"
			}
			text = fmt.Sprintf("Human Capital. As of the end of fiscal 2023, %s approximately %s full-time employees, of whom about %d%% were located outside the United States. "+
				"Approximately %d%% of our workforce is represented by labor unions or works councils.", subj, thousands(c.Employees), c.IntlStaffPct, union)
			third = qa{fmt.Sprintf("What share of %s staff is unionized?", poss(s)), fmt.Sprintf("About %d%% of the workforce is represented by unions or works councils.", union)}
			if c.IntlStaffPct > 0 && g.r.IntN(2) == 0 {
				third = qa{fmt.Sprintf("What share of %s people work abroad?", poss(s)), fmt.Sprintf("About %d%% of employees were located outside the United States.", c.IntlStaffPct)}
			}
		} else {
			turnover := 6 + g.r.IntN(12)
			subj := "We had"
			if g.named() {
				subj = s + " had"
			}
			text = fmt.Sprintf("Our people are central to our strategy. %s about %s employees in %d %s at fiscal year-end, and voluntary turnover was %d%% in fiscal 2023. "+
				"We invest in training, safety programs and competitive pay to attract and retain talent.", subj, thousands(c.Employees), c.Countries, plural(c.Countries, "country", "countries"), turnover)
			third = qa{fmt.Sprintf("What was staff attrition at %s in 2023?", s), fmt.Sprintf("Voluntary turnover was %d%% in fiscal 2023.", turnover)}
		}
		add(passage{"Item 1. Business", text, []qa{
			{fmt.Sprintf("How many employees did %s have at the end of fiscal 2023?", s), fmt.Sprintf("About %s employees.", thousands(c.Employees))},
			{fmt.Sprintf("What is %s headcount?", poss(s)), fmt.Sprintf("%s had approximately %s people on staff.", s, thousands(c.Employees))},
			{fmt.Sprintf("How large is %s workforce?", poss(s)), fmt.Sprintf("Roughly %s employees.", thousands(c.Employees))},
			third,
		}})
	}

	// Item 1A. Risk factors: the company's own risk and two general ones.
	add(passage{"Item 1A. Risk Factors", c.Risk.Passage, c.Risk.QAs})
	for _, p := range g.generalRisks(c) {
		add(p)
	}

	// Item 2. Properties.
	{
		tenure := "lease"
		if c.HQOwned {
			tenure = "own"
		}
		var text string
		if g.named() {
			text = fmt.Sprintf("%s corporate headquarters in %s occupies approximately %s square feet, which we %s. The Company also operates %d %s in %s.",
				poss(s), c.City, thousands(c.HQSqFt), tenure, c.Sites, c.SiteNoun, c.SiteRegions)
		} else {
			text = fmt.Sprintf("We %s our headquarters building in %s, which has approximately %s square feet. In addition, we operate %d %s located in %s, "+
				"which we believe are suitable and adequate for our current needs.", tenure, c.City, thousands(c.HQSqFt), c.Sites, c.SiteNoun, c.SiteRegions)
		}
		rent := "It owns the building."
		if !c.HQOwned {
			rent = "It leases the building."
		}
		add(passage{"Item 2. Properties", text, []qa{
			{fmt.Sprintf("How many %s does %s operate?", c.SiteNoun, s), fmt.Sprintf("%s operates %d %s in %s.", s, c.Sites, c.SiteNoun, c.SiteRegions)},
			{fmt.Sprintf("How big is %s head office?", poss(s)), fmt.Sprintf("About %s square feet.", thousands(c.HQSqFt))},
			{fmt.Sprintf("Does %s own or rent its main building?", s), rent},
		}})
	}
	// Item 3. Legal proceedings.
	if c.Legal != nil {
		var text string
		if g.named() {
			text = fmt.Sprintf("In %s 2023 a lawsuit was filed against %s in the %s alleging %s. %s believes the claims are without merit and intends to defend itself vigorously; "+
				"it cannot currently estimate a range of possible loss.", c.Legal.Month, s, c.Legal.Court, c.Legal.Claim, s)
		} else {
			text = fmt.Sprintf("In %s 2023 a putative class action was filed against us in the %s alleging %s. We believe the claims are without merit and intend to defend "+
				"ourselves vigorously. At this stage we cannot estimate a range of possible loss.", c.Legal.Month, c.Legal.Court, c.Legal.Claim)
		}
		add(passage{"Item 3. Legal Proceedings", text, []qa{
			{fmt.Sprintf("What lawsuit is pending against %s?", s), fmt.Sprintf("A suit filed in %s 2023 in the %s alleging %s.", c.Legal.Month, c.Legal.Court, c.Legal.Claim)},
			{fmt.Sprintf("What legal dispute does %s face?", s), fmt.Sprintf("It is defending claims alleging %s.", c.Legal.Claim)},
			{fmt.Sprintf("Has %s put a number on potential losses from litigation?", s), "No; it cannot currently estimate a range of possible loss."},
		}})
	}
	// Item 5. Capital return.
	{
		var text string
		var qas []qa
		switch {
		case c.Dividend > 0:
			text = fmt.Sprintf("We paid a quarterly cash dividend of $%.2f per share in fiscal 2023. In %s 2023 our Board of Directors authorized a share repurchase program of up to %s, "+
				"under which we repurchased %.1f million shares during the year.", c.Dividend, c.BuybackMonth, money(c.Buyback), c.Repurchased)
			if c.Buyback == 0 {
				text = fmt.Sprintf("We paid a quarterly cash dividend of $%.2f per share in fiscal 2023 and intend to grow the dividend as our projects generate cash. "+
					"We do not currently have a share repurchase program.", c.Dividend)
			}
			qas = append(qas,
				qa{fmt.Sprintf("Does %s pay a dividend?", s), fmt.Sprintf("Yes, $%.2f per share each quarter in fiscal 2023.", c.Dividend)},
				qa{fmt.Sprintf("How much cash does %s return to shareholders each quarter?", s), fmt.Sprintf("A dividend of $%.2f per share per quarter.", c.Dividend)})
		default:
			text = "We have never declared or paid a cash dividend on our common stock and do not anticipate paying one in the foreseeable future."
			if c.Buyback > 0 {
				text += fmt.Sprintf(" In %s 2023 our Board of Directors authorized the repurchase of up to %s of our common stock, and we bought back %.1f million shares during the year.",
					c.BuybackMonth, money(c.Buyback), c.Repurchased)
			} else {
				text += " We intend to retain future earnings to fund the growth of our business."
			}
			qas = append(qas, qa{fmt.Sprintf("Does %s pay a dividend?", s), "No; it has never declared or paid cash dividends."},
				qa{fmt.Sprintf("Does %s reward stockholders with a regular payout?", s), "No regular payout: it has never paid cash dividends on its common stock."})
		}
		if c.Buyback > 0 {
			qas = append(qas, qa{fmt.Sprintf("How large is %s buyback authorization?", poss(s)), fmt.Sprintf("Up to %s, authorized in %s 2023.", money(c.Buyback), c.BuybackMonth)},
				qa{fmt.Sprintf("How many of its own shares did %s buy back in 2023?", s), fmt.Sprintf("%.1f million shares.", c.Repurchased)})
		}
		if g.named() {
			text = strings.Replace(text, "We ", s+" ", 1)
		}
		text = fmt.Sprintf("Our common stock trades on the %s under the symbol \"%s\". ", exchange(c), c.Ticker) + text
		add(passage{"Item 5. Market for Registrant's Common Equity", text, qas})
	}
	// Item 7. MD&A: revenue, margin, R&D, acquisition, debt.
	{
		dir, verb := "an increase", "rose"
		if c.Rev23 < c.Rev22 {
			dir, verb = "a decrease", "fell"
		}
		g23 := 100 * (c.Rev23 - c.Rev22) / c.Rev22
		var text string
		if g.named() {
			text = fmt.Sprintf("%s reported net revenue of %s for fiscal 2023 compared with %s in fiscal 2022. The %s %s was mainly attributable to %s.",
				s, moneyExact(c.Rev23), moneyExact(c.Rev22), pct1(abs(g23)), strings.TrimPrefix(strings.TrimPrefix(dir, "an "), "a "), c.Driver)
		} else {
			text = fmt.Sprintf("Total revenue for fiscal 2023 was %s, %s of %s from %s in fiscal 2022, driven primarily by %s.",
				money(c.Rev23), dir, pct1(abs(g23)), money(c.Rev22), c.Driver)
		}
		add(passage{"Item 7. Management's Discussion and Analysis", text, []qa{
			{fmt.Sprintf("What was %s total revenue in fiscal 2023?", poss(s)), fmt.Sprintf("%s (%s).", money(c.Rev23), moneyExact(c.Rev23))},
			{fmt.Sprintf("How big was %s top line last fiscal year?", poss(s)), fmt.Sprintf("%s in fiscal 2023.", money(c.Rev23))},
			{fmt.Sprintf("By what percentage did %s sales change year over year?", poss(s)), fmt.Sprintf("Revenue %s %s, from %s to %s.", verb, pct1(abs(g23)), money(c.Rev22), money(c.Rev23))},
			{fmt.Sprintf("What drove the change in %s turnover in 2023?", poss(s)), fmt.Sprintf("Mainly %s.", c.Driver)},
		}})
	}
	{
		dir := "increase"
		if c.GM23 < c.GM22 {
			dir = "decline"
		}
		var text string
		if g.named() {
			text = fmt.Sprintf("%s gross margin was %s in fiscal 2023 compared with %s in fiscal 2022. The %s reflected %s.", poss(s), pct1(c.GM23), pct1(c.GM22), dir, c.MarginReason)
		} else {
			text = fmt.Sprintf("Gross margin, or gross profit as a percentage of revenue, was %s in fiscal 2023, versus %s in the prior year, primarily because of %s.", pct1(c.GM23), pct1(c.GM22), c.MarginReason)
		}
		add(passage{"Item 7. Management's Discussion and Analysis", text, []qa{
			{fmt.Sprintf("What was %s gross margin in fiscal 2023?", poss(s)), fmt.Sprintf("%s, compared with %s in fiscal 2022.", pct1(c.GM23), pct1(c.GM22))},
			{fmt.Sprintf("How much did %s keep from each dollar of sales after the cost of goods?", s), fmt.Sprintf("Gross margin was %s in fiscal 2023.", pct1(c.GM23))},
			{fmt.Sprintf("Why did %s profitability on products change in 2023?", poss(s)), fmt.Sprintf("Because of %s.", c.MarginReason)},
		}})
	}
	if c.RnD > 0 {
		share := 100 * c.RnD / c.Rev23
		var text string
		if g.named() {
			text = fmt.Sprintf("%s research and development expense was %s in fiscal 2023, or %s of revenue, as the Company continued to invest in %s.", poss(s), money(c.RnD), pct1(share), c.RnDFocus)
		} else {
			text = fmt.Sprintf("Research and development expenses were %s in fiscal 2023 (%s of revenue). Our development efforts focus on %s.", money(c.RnD), pct1(share), c.RnDFocus)
		}
		add(passage{"Item 7. Management's Discussion and Analysis", text, []qa{
			{fmt.Sprintf("How much did %s spend on research and development in fiscal 2023?", s), fmt.Sprintf("%s, or %s of revenue.", money(c.RnD), pct1(share))},
			{fmt.Sprintf("What was %s R&D budget last year?", poss(s)), fmt.Sprintf("%s in fiscal 2023.", money(c.RnD))},
			{fmt.Sprintf("Where is %s putting its innovation money?", s), fmt.Sprintf("Into %s.", c.RnDFocus)},
		}})
	}
	if a := c.Acq; a != nil {
		var text string
		if g.named() {
			text = fmt.Sprintf("In %s 2023 %s completed the acquisition of %s, a %s, for total cash consideration of %s, net of cash acquired. The acquisition expanded our %s.",
				a.Month, s, a.Target, a.What, money(a.Price), a.Expanded)
		} else {
			text = fmt.Sprintf("On the closing date in %s 2023 we acquired all of the outstanding shares of %s, a %s, for %s in cash. The transaction broadened our %s.",
				a.Month, a.Target, a.What, money(a.Price), a.Expanded)
		}
		add(passage{"Item 7. Management's Discussion and Analysis", text, []qa{
			{fmt.Sprintf("What company did %s acquire in 2023?", s), fmt.Sprintf("%s, a %s.", a.Target, a.What)},
			{fmt.Sprintf("How much did %s pay for %s?", s, a.Target), fmt.Sprintf("%s in cash.", money(a.Price))},
			{fmt.Sprintf("What did %s buy last year to grow its business?", s), fmt.Sprintf("It bought %s, which expanded its %s.", a.Target, a.Expanded)},
		}})
	}
	{
		kind := strconv.FormatFloat(c.NotesRate, 'f', -1, 64) + "% senior unsecured notes"
		if c.NotesRate == 0 {
			kind = "0% convertible senior notes"
		}
		var text string
		if g.named() {
			text = fmt.Sprintf("At the end of fiscal 2023 %s had %s aggregate principal amount of %s due %d outstanding, and no borrowings under its %s revolving credit facility, which matures in %d.",
				s, money(c.Notes), kind, c.NotesDue, money(c.Revolver), c.RevolverDue)
		} else {
			text = fmt.Sprintf("Liquidity and Capital Resources. Our long-term debt consisted of %s of %s maturing in %d. We also have a %s revolving credit facility expiring in %d, "+
				"which was undrawn at year-end. We believe our cash and available credit are sufficient for at least the next twelve months.", money(c.Notes), kind, c.NotesDue, money(c.Revolver), c.RevolverDue)
		}
		rate := fmt.Sprintf("The notes carry a %s%% coupon.", strconv.FormatFloat(c.NotesRate, 'f', -1, 64))
		if c.NotesRate == 0 {
			rate = "They are 0% convertible notes, which pay no cash interest."
		}
		add(passage{"Item 7. Management's Discussion and Analysis", text, []qa{
			{fmt.Sprintf("What is the interest rate on %s senior notes?", poss(s)), rate},
			{fmt.Sprintf("How much does %s owe bondholders?", s), fmt.Sprintf("%s of notes due %d.", money(c.Notes), c.NotesDue)},
			{fmt.Sprintf("When do %s long-term borrowings mature?", poss(s)), fmt.Sprintf("The notes are due in %d.", c.NotesDue)},
			{fmt.Sprintf("How much untapped bank credit does %s have?", s), fmt.Sprintf("An undrawn %s revolving facility expiring in %d.", money(c.Revolver), c.RevolverDue)},
		}})
	}
	return ps
}

// exchange is where the company's stock is listed.
func exchange(c company) string {
	if c.Sector == "Information Technology" || c.Sector == "Health Care" {
		return "Nasdaq Global Select Market"
	}
	return "New York Stock Exchange"
}

// word spells small counts as a filing would ("three segments").
func word(n int) string {
	if n >= 0 && n < 10 {
		return []string{"zero", "one", "two", "three", "four", "five", "six", "seven", "eight", "nine"}[n]
	}
	return strconv.Itoa(n)
}

func abs(x float64) float64 {
	if x < 0 {
		return -x
	}
	return x
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// generalRisks picks two risk factors that every company can have, from the ones that apply to it.
func (g *gen) generalRisks(c company) []passage {
	s := c.Short
	var pool []func() passage
	pool = append(pool, func() passage {
		text := fmt.Sprintf("We depend on a limited number of suppliers for %s. %s supplied approximately %d%% of our %s in fiscal 2023, and we have no long-term supply "+
			"contract with it. A disruption at a single supplier could delay our shipments and increase our costs.", c.Input, c.Supplier, c.SupplierPct, c.Input)
		return passage{"Item 1A. Risk Factors", text, []qa{
			{fmt.Sprintf("Which supplier does %s depend on for %s?", s, c.Input), fmt.Sprintf("%s, which supplied about %d%% of them.", c.Supplier, c.SupplierPct)},
			{fmt.Sprintf("How concentrated is %s sourcing?", poss(s)), fmt.Sprintf("Highly: %s provided about %d%% of its %s.", c.Supplier, c.SupplierPct, c.Input)},
			{fmt.Sprintf("Does %s have a long-term agreement with its main vendor?", s), fmt.Sprintf("No; it has no long-term supply contract with %s.", c.Supplier)},
		}}
	})
	pool = append(pool, func() passage {
		attempts := 20 + g.r.IntN(400)
		cover := float64(25 * (1 + g.r.IntN(8)))
		text := fmt.Sprintf("We rely on information technology systems to run our operations, and they are the target of cyber attacks. In fiscal 2023 we detected and contained %d "+
			"attempted intrusions, none of which had a material effect on our business. We maintain cybersecurity insurance of %s, which may not cover all losses from a breach.", attempts, money(cover))
		return passage{"Item 1A. Risk Factors", text, []qa{
			{fmt.Sprintf("How much cybersecurity insurance does %s carry?", s), fmt.Sprintf("%s of coverage.", money(cover))},
			{fmt.Sprintf("Has %s been targeted by hackers?", s), fmt.Sprintf("Yes; it detected and contained %d attempted intrusions in fiscal 2023, none material.", attempts)},
			{fmt.Sprintf("How protected is %s financially against a data breach?", s), fmt.Sprintf("It carries %s of cyber insurance, which may not cover all losses.", money(cover))},
		}}
	})
	if c.IntlRevPct > 0 {
		pool = append(pool, func() passage {
			hit := c.Rev23 * float64(c.IntlRevPct) / 100 * 0.09
			text := fmt.Sprintf("Approximately %d%% of our revenue was generated outside the United States, principally in %s. We estimate that a 10%% strengthening of the "+
				"U.S. dollar against the currencies in which we sell would have reduced fiscal 2023 revenue by approximately %s.", c.IntlRevPct, c.Regions, money(hit))
			return passage{"Item 1A. Risk Factors", text, []qa{
				{fmt.Sprintf("How much of %s revenue is generated outside the United States?", poss(s)), fmt.Sprintf("About %d%%, mainly in %s.", c.IntlRevPct, c.Regions)},
				{fmt.Sprintf("What portion of %s sales come from abroad?", poss(s)), fmt.Sprintf("Roughly %d%% of revenue is international.", c.IntlRevPct)},
				{fmt.Sprintf("How would a stronger dollar hit %s?", s), fmt.Sprintf("A 10%% stronger dollar would have cut fiscal 2023 revenue by about %s.", money(hit))},
			}}
		})
	}
	pool = append(pool, func() passage {
		text := fmt.Sprintf("Our success depends on the continued service of our senior management team, including %s, our Chief Executive Officer since %d. "+
			"We do not maintain key-person life insurance, and the loss of key executives could disrupt the execution of our strategy.", c.CEO, c.CEOYear)
		return passage{"Item 1A. Risk Factors", text, []qa{
			{fmt.Sprintf("Who is %s chief executive officer?", poss(s)), fmt.Sprintf("%s, CEO since %d.", c.CEO, c.CEOYear)},
			{fmt.Sprintf("Who has been running %s since %d?", s, c.CEOYear), fmt.Sprintf("%s.", c.CEO)},
			{fmt.Sprintf("Is %s insured against losing its top executives?", s), "No; it does not carry key-person life insurance."},
		}}
	})
	pool = append(pool, func() passage {
		exposed := 1 + g.r.IntN(max(1, c.Sites/2))
		text := fmt.Sprintf("Severe weather and the physical effects of climate change could disrupt our operations and those of our suppliers. %d of our %d %s are located "+
			"in areas exposed to %s, and insurance may not cover all resulting losses.", exposed, c.Sites, c.SiteNoun, c.Hazard)
		return passage{"Item 1A. Risk Factors", text, []qa{
			{fmt.Sprintf("What climate risks does %s face?", s), fmt.Sprintf("Severe weather; %d of its %d %s are exposed to %s.", exposed, c.Sites, c.SiteNoun, c.Hazard)},
			{fmt.Sprintf("How many of %s sites could be hit by %s?", poss(s), c.Hazard), fmt.Sprintf("%d of its %d %s.", exposed, c.Sites, c.SiteNoun)},
		}}
	})
	// Two distinct risks, in pool order.
	i := g.r.IntN(len(pool))
	j := g.r.IntN(len(pool) - 1)
	if j >= i {
		j++
	}
	if j < i {
		i, j = j, i
	}
	return []passage{pool[i](), pool[j]()}
}
