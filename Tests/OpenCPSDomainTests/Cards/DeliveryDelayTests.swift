import Testing
@testable import OpenCPSDomain

private func day(_ text: String) -> CivilDate { try! CivilDate(text) }

@Suite("Delivery delay")
struct DeliveryDelayTests {
    @Test("a file validated on 6 May 2026 is due between 20 May and 1 June, skipping 8 May, Ascension and Whit Monday")
    func mayHolidays() {
        // Wed 6 May: 7 May (1), 8 May holiday, 11-13 May (2-4), 14 May Ascension, 15 May (5), 18-20 May (6-8);
        // 21-22 May (9-10), 25 May Whit Monday, 26-29 May (11-14), 1 June (15).
        let delay = DeliveryDelay.standard
        #expect(delay.earliest(validatedOn: day("2026-05-06")) == day("2026-05-20"))
        #expect(delay.latest(validatedOn: day("2026-05-06")) == day("2026-06-01"))
        let deadline = delay.deadline(validatedOn: day("2026-05-06"), path: .standard)
        #expect(deadline.earliest == day("2026-05-20"))
        #expect(deadline.due == day("2026-06-01"))
    }

    @Test("the express path takes 2 working days by default")
    func express() {
        let delay = DeliveryDelay.standard
        #expect(delay.deadline(validatedOn: day("2026-05-06"), path: .express).due == day("2026-05-11"))
        #expect(delay.deadline(validatedOn: day("2026-07-10"), path: .express).due == day("2026-07-15"))
        #expect(delay.deadline(validatedOn: day("2026-05-09"), path: .express).due == day("2026-05-12"))
        #expect(delay.deadline(validatedOn: day("2026-05-06"), path: .express).earliest == nil)
    }

    @Test("the delay crosses Christmas, New Year and Armistice Day")
    func yearEnd() {
        let delay = DeliveryDelay.standard
        #expect(delay.earliest(validatedOn: day("2026-12-18")) == day("2026-12-31"))
        #expect(delay.latest(validatedOn: day("2026-12-18")) == day("2027-01-12"))
        #expect(delay.earliest(validatedOn: day("2026-10-30")) == day("2026-11-12"))
    }

    @Test("Alsace-Moselle's Good Friday pushes the date one day")
    func alsaceMoselle() throws {
        let national = DeliveryDelay.standard
        let alsace = try DeliveryDelay(calendar: FrenchWorkingDayCalendar(alsaceMoselle: true))
        #expect(national.earliest(validatedOn: day("2026-03-31")) == day("2026-04-13"))
        #expect(alsace.earliest(validatedOn: day("2026-03-31")) == day("2026-04-14"))
    }

    @Test("a card is overdue only after its due day")
    func overdue() {
        let deadline = DeliveryDelay.standard.deadline(validatedOn: day("2026-05-06"), path: .standard)
        #expect(!deadline.isOverdue(on: day("2026-05-06")))
        #expect(!deadline.isOverdue(on: day("2026-06-01")))
        #expect(deadline.isOverdue(on: day("2026-06-02")))
        #expect(deadline.workingDaysLeft(on: day("2026-05-29")) == 1)
        #expect(deadline.workingDaysLeft(on: day("2026-06-01")) == 0)
        #expect(deadline.workingDaysLeft(on: day("2026-06-03")) == -2)
    }

    @Test("the window and the express delay are configurable within sane bounds")
    func configuration() throws {
        let delay = try DeliveryDelay(window: 5...10, expressWorkingDays: 1)
        #expect(delay.window == 5...10)
        #expect(delay.latest(validatedOn: day("2026-05-06")) == day("2026-05-22"))
        #expect(delay.deadline(validatedOn: day("2026-05-06"), path: .express).due == day("2026-05-07"))
        #expect(DeliveryDelay.standard.window == 8...15)
        #expect(DeliveryDelay.standard.expressWorkingDays == 2)
        #expect { try DeliveryDelay(window: 0...15) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
        #expect { try DeliveryDelay(expressWorkingDays: 0) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
        #expect { try DeliveryDelay(window: 8...15, expressWorkingDays: 9) } throws: { ($0 as? CardLifecycleError)?.code == "card.configuration-invalid" }
    }
}
