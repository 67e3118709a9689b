import Testing
@testable import OpenCPSDomain

private func day(_ text: String) -> CivilDate { try! CivilDate(text) }

@Suite("Renewal schedule")
struct RenewalScheduleTests {
    @Test("reminders fall 3 months, 1 month and 1 week before expiry, clamped to short months")
    func dates() {
        let schedule = RenewalSchedule(expiresOn: day("2031-05-31"))
        #expect(schedule.reminderDates == [.threeMonths: day("2031-02-28"), .oneMonth: day("2031-04-30"), .oneWeek: day("2031-05-24")])
        #expect(schedule.windowOpensOn == day("2031-02-28"))
        #expect(RenewalSchedule(expiresOn: day("2027-02-21")).reminderDates
            == [.threeMonths: day("2026-11-21"), .oneMonth: day("2027-01-21"), .oneWeek: day("2027-02-14")])
        #expect(RenewalSchedule(expiresOn: day("2028-05-30")).windowOpensOn == day("2028-02-29"))
    }

    @Test("reminders have stable keys")
    func keys() {
        #expect(RenewalReminder.allCases.map(\.key) == ["m3", "m1", "w1"])
        #expect(RenewalReminder(rawValue: "w1") == .oneWeek)
    }

    @Test("the renewal window opens 3 months before expiry")
    func window() {
        let schedule = RenewalSchedule(expiresOn: day("2027-02-21"))
        #expect(!schedule.isWindowOpen(on: day("2026-11-20")))
        #expect(schedule.isWindowOpen(on: day("2026-11-21")))
        #expect(schedule.isWindowOpen(on: day("2027-02-21")))
        #expect(!schedule.isWindowOpen(on: day("2027-02-22")))
    }

    @Test("a daily job sends each reminder exactly once, on its day")
    func eachOnce() {
        let schedule = RenewalSchedule(expiresOn: day("2027-02-21"))
        var sent: Set<RenewalReminder> = []
        var log: [(CivilDate, RenewalReminder)] = []
        var date = day("2026-10-01")
        while date <= day("2027-03-31") {
            if let reminder = schedule.dueReminder(on: date, alreadySent: sent) {
                sent.insert(reminder)
                log.append((date, reminder))
            }
            date = date.adding(days: 1)
        }
        #expect(log.map(\.0) == [day("2026-11-21"), day("2027-01-21"), day("2027-02-14")])
        #expect(log.map(\.1) == [.threeMonths, .oneMonth, .oneWeek])
    }

    @Test("a missed reminder is skipped once a later one is due, and nothing is sent from expiry on")
    func missed() {
        let schedule = RenewalSchedule(expiresOn: day("2027-02-21"))
        #expect(schedule.dueReminder(on: day("2026-11-20"), alreadySent: []) == nil)
        #expect(schedule.dueReminder(on: day("2026-12-01"), alreadySent: []) == .threeMonths)
        #expect(schedule.dueReminder(on: day("2027-01-25"), alreadySent: []) == .oneMonth)
        #expect(schedule.dueReminder(on: day("2027-01-25"), alreadySent: [.oneMonth]) == nil)
        #expect(schedule.dueReminder(on: day("2027-02-20"), alreadySent: [.threeMonths]) == .oneWeek)
        #expect(schedule.dueReminder(on: day("2027-02-21"), alreadySent: []) == nil)
        #expect(schedule.dueReminder(on: day("2027-03-01"), alreadySent: []) == nil)
    }
}
