package analysis

import "github.com/mcp-analytics/mcp-analytics/internal/dataset"

// PlanTemplated plans req as a call does (PlanCached) and says whether a
// shape's template filled the plan in.
func (s *Service) PlanTemplated(h *dataset.Handle, req Request) (p QueryPlan, templated bool, err error) {
	before := s.templateFills.Load()
	p, err = s.PlanCached(h, req)
	return p, s.templateFills.Load() > before, err
}
