// Package clock is the one clock every date decision of aggapi goes through: the real
// time, or the time AGGAPI_NOW sets, so a user can preview a renewal and a test can
// step a certificate through its life without touching the machine's clock.
package clock
